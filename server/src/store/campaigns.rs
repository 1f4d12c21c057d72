//! Campaigns and the households each reached ([`crate::campaigns`] decides).

use super::Conn;
use super::tallies::count;
use crate::db::DbError;

/// A campaign as stored: id, region, name, first and last day (`YYYY-MM-DD`).
pub type StoredCampaign = (String, String, String, String, String);

/// Every campaign, by first day and region.
pub fn all(conn: Conn<'_>) -> Result<Vec<StoredCampaign>, DbError> {
    conn.rows(
        "SELECT campaign_id, region, name, starts_on, ends_on FROM campaigns
         ORDER BY starts_on, region",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
}

/// A new campaign.
#[derive(Debug)]
pub struct NewCampaign<'a> {
    pub campaign_id: &'a str,
    pub region: &'a str,
    pub name: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub created_by: &'a str,
    pub created_at: i64,
}

pub fn insert(conn: Conn<'_>, campaign: &NewCampaign<'_>) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO campaigns (campaign_id, region, name, starts_on, ends_on, created_by,
             created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &campaign.campaign_id,
            &campaign.region,
            &campaign.name,
            &campaign.starts_on,
            &campaign.ends_on,
            &campaign.created_by,
            &campaign.created_at,
        ],
    )?;
    Ok(())
}

/// Counts `household` (of `village`) as visited in `campaign`, once however many visits.
pub fn count_visited(
    conn: Conn<'_>,
    campaign: &str,
    village: &str,
    household: &str,
) -> Result<(), DbError> {
    let new = conn.execute(
        "INSERT INTO campaign_households (campaign_id, household_id, region) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        &[&campaign, &household, &village],
    )?;
    if new == 1 {
        conn.execute(
            "INSERT INTO campaign_villages (campaign_id, region, households) VALUES (?1, ?2, 1)
             ON CONFLICT (campaign_id, region)
             DO UPDATE SET households = campaign_villages.households + 1",
            &[&campaign, &village],
        )?;
    }
    Ok(())
}

/// The (village, household) pairs visited inside `region` between `from` and `until` (unix ms,
/// corrected finishing times).
pub fn visited_between(
    conn: Conn<'_>,
    region: &str,
    from: i64,
    until: i64,
) -> Result<Vec<(String, String)>, DbError> {
    conn.rows(
        "SELECT DISTINCT h.region, v.household_id FROM visits v
         JOIN households h USING (household_id)
         WHERE h.region >= ?1 AND h.region < ?1 || '/'
             AND v.order_time >= ?2 AND v.order_time < ?3",
        &[&region, &from, &until],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The households inside `region` that more than one enumerator visited.
pub fn shared_households(conn: Conn<'_>, region: &str) -> Result<Vec<String>, DbError> {
    conn.values(
        "SELECT v.household_id FROM visits v JOIN households h USING (household_id)
         WHERE h.region >= ?1 AND h.region < ?1 || '/'
         GROUP BY v.household_id HAVING count(DISTINCT v.enumerator_id) > 1",
        &[&region],
    )
}

/// Households on the target list (ACTIVE) inside `region`.
pub fn targets_in(conn: Conn<'_>, region: &str) -> Result<u64, DbError> {
    let targets: i64 = conn.value(
        "SELECT count(*) FROM households
         WHERE region >= ?1 AND region < ?1 || '/' AND target_status = 'ACTIVE'",
        &[&region],
    )?;
    Ok(count(targets))
}

/// Households of the villages `[from, to)` visited in `campaign`.
pub fn visited_in(
    conn: Conn<'_>,
    campaign: &str,
    (from, to): (&str, &str),
) -> Result<u64, DbError> {
    let visited: i64 = conn.value(
        "SELECT CAST(coalesce(sum(households), 0) AS BIGINT) FROM campaign_villages
         WHERE campaign_id = ?1 AND region >= ?2 AND region < ?3",
        &[&campaign, &from, &to],
    )?;
    Ok(count(visited))
}
