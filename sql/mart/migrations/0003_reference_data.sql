-- Reference data from the TLC beside the trips, loaded by atl-mart build from the lake:
-- the zone shapes (the dashboard's maps) and the TLC's monthly indicators (set beside the
-- mart's own figures); and each built month counted on the TLC's definition.

-- One row per record of taxi_zones.shp (reference/taxi_zones.zip), as an SVG path: the
-- shapes are in New York State Plane feet (EPSG:2263), planar, so a path is the shape
-- scaled, y flipped (north up). No PostGIS: the dashboard only draws them.
CREATE TABLE IF NOT EXISTS mart.ref_zone_shape (
    shape_no  int  PRIMARY KEY,   -- the record's place in the file, from 1
    -- LocationID as recorded: the TLC's file carries 56 twice and 103 three times (the
    -- records of 57, 104 and 105), so it is not a key.
    zone_id   int  NOT NULL,
    zone      text NOT NULL,
    borough   text NOT NULL,
    svg_path  text NOT NULL,      -- 'M x y L x y ... Z' per ring, integer map units
    min_x     int  NOT NULL,
    min_y     int  NOT NULL,
    max_x     int  NOT NULL,
    max_y     int  NOT NULL,
    feet_per_unit double precision NOT NULL
);

-- data_reports_monthly.csv (reference/data_reports_monthly.csv): the TLC's figures per
-- month and licence class. NULL where the TLC writes '-' (not applicable: no farebox for
-- the for-hire classes).
CREATE TABLE IF NOT EXISTS mart.ref_tlc_indicator (
    month_id         int     NOT NULL CHECK (month_id % 100 BETWEEN 1 AND 12),
    licence_class    text    NOT NULL,
    trips_per_day    numeric,
    farebox_per_day  numeric,
    PRIMARY KEY (month_id, licence_class)
);

-- The TLC licence class a mart service (dim_service.name) is counted in. The high-volume
-- licences are one class for the TLC; 'fhv' (black car, livery, luxury limousine) is three
-- classes whose sum has no single figure, so it is not compared.
CREATE TABLE IF NOT EXISTS mart.ref_licence_class (
    service_name   text PRIMARY KEY,
    licence_class  text NOT NULL
);
INSERT INTO mart.ref_licence_class VALUES
    ('yellow', 'Yellow'), ('green', 'Green'),
    ('uber', 'FHV - High Volume'), ('lyft', 'FHV - High Volume'),
    ('juno', 'FHV - High Volume'), ('via', 'FHV - High Volume')
ON CONFLICT DO NOTHING;

-- Each built month as the TLC counts it: every staged row picked up in the month, before
-- any cleaning rule (written by atl-mart from sql/mart/recorded_month.sql after
-- insertion.sql). Money is the rows' own total_amount and tip_amount.
CREATE TABLE IF NOT EXISTS mart.agg_month_recorded (
    service_id        smallint NOT NULL REFERENCES mart.dim_service,
    month_id          int      NOT NULL,
    trips             bigint   NOT NULL,
    total_amount_sum  numeric  NOT NULL,
    tip_amount_sum    numeric  NOT NULL,
    PRIMARY KEY (service_id, month_id)
);
