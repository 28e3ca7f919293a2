//! The market-share view's query: pickups by zone and service from `mart.agg_zone_month`.

use sqlx::PgConnection;

use crate::error::VizError;
use crate::model::{Market, Service, ZoneServiceTrips};
use crate::query::from_row;

from_row! {
    ZoneServiceTrips { zone_id, borough, service, trips }
}

/// The view for months `[from, to]` (`YYYYMM`) and `ids` (`None`: every service), each
/// service put on its side by `services`.
pub(super) async fn read(
    conn: &mut PgConnection,
    url: &str,
    (from, to): (i32, i32),
    ids: Option<&[i16]>,
    services: &[Service],
) -> Result<Market, VizError> {
    let rows: Vec<ZoneServiceTrips> = sqlx::query_as(include_str!("../../sql/zone_market_share.sql"))
        .bind(from)
        .bind(to)
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(|e| VizError::from_query("zone_market_share.sql", url, e))?;
    Ok(Market::of(&rows, services))
}
