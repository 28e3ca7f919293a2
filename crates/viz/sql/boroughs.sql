SELECT borough_id, name FROM mart.dim_borough ORDER BY name
