-- The zone map's shapes (migration 0003), if this mart has the table and it was loaded.
SELECT shape_no, zone_id, zone, borough, svg_path, min_x, min_y, max_x, max_y
FROM mart.ref_zone_shape
ORDER BY shape_no
