SELECT service_id, name, licence FROM mart.dim_service ORDER BY service_id
