SELECT service_id, name FROM mart.dim_service ORDER BY service_id
