-- Which copy of each optional reference file the mart holds: the zone shapes and the TLC's
-- indicators are refreshed when they can be, and a failed refresh (the TLC's site down, a
-- corrupt file in the lake) leaves the last good copy in place, so the dashboard says which
-- one it shows. Written by atl-mart in the transaction that replaces the file's table.
CREATE TABLE IF NOT EXISTS mart.ref_release (
    lake_key      text        PRIMARY KEY,  -- reference/taxi_zones.zip, reference/data_reports_monthly.csv
    fetched_at    timestamptz NOT NULL,     -- when that copy entered the lake
    newest_month  int,                      -- the indicators: the newest month the release covers
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
