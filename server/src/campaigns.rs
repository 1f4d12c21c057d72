//! Campaigns (issue 14, item 5): a verification round (verval) of a region with its first and
//! last day. A visit belongs to the campaign of its household's region whose days hold the
//! visit's corrected finish, in the region's own time zone (WIB, WITA, WIT); campaigns of nested
//! regions may not overlap in time, so a visit belongs to one campaign at most. Progress is
//! counted per campaign, and a visit finished before the start of its region's campaign under way
//! is flagged (VIS-05), kept for a supervisor to look at rather than dropped.

use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;
use verivali_core::merge::Round;
use verivali_core::model::{Code, HouseholdId, RegionCode, Timestamp};

use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::reports::{code_range, utc_offset_hours};
use crate::store::{self, Conn};
use crate::supervision::region_in_scope;
use crate::{audit, households, roles, tallies};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: String,
    pub region: RegionCode,
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

impl Campaign {
    /// Its first instant and the instant after its last day, in UTC: midnights of the region.
    pub fn window(&self) -> (Timestamp, Timestamp) {
        let offset =
            UtcOffset::from_hms(utc_offset_hours(&self.region), 0, 0).unwrap_or(UtcOffset::UTC);
        let midnight = |day: Date| Timestamp(day.with_time(Time::MIDNIGHT).assume_offset(offset));
        let after = self.ends_on.next_day().unwrap_or(self.ends_on);
        (midnight(self.starts_on), midnight(after))
    }

    /// Whether its region holds or lies in `region`: two such campaigns may not overlap.
    fn nests_with(&self, region: &RegionCode) -> bool {
        self.region.contains(region) || region.contains(&self.region)
    }
}

/// Every campaign, for a push to look up its households' (a district has a few a year).
pub fn all(conn: Conn<'_>) -> Result<Vec<Campaign>, DbError> {
    store::campaigns::all(conn)?
        .into_iter()
        .map(|(id, region, name, starts_on, ends_on)| {
            let bad = |e: String| DbError::Inconsistent(format!("campaign {id}: {e}"));
            Ok(Campaign {
                region: RegionCode::parse(&region).map_err(|e| bad(e.to_string()))?,
                starts_on: parse_day(&starts_on).ok_or_else(|| bad(starts_on.clone()))?,
                ends_on: parse_day(&ends_on).ok_or_else(|| bad(ends_on.clone()))?,
                id,
                name,
            })
        })
        .collect()
}

/// The windows of `campaigns` that hold `region` (its own and those of the regions around it), in
/// order: a household's merge looks for conflicts within one of them.
pub fn rounds(campaigns: &[Campaign], region: &RegionCode) -> Vec<Round> {
    campaigns
        .iter()
        .filter(|c| c.region.contains(region))
        .map(Campaign::window)
        .collect()
}

/// The first day of the campaign of `region` under way at `now` (or the latest one begun), which
/// VIS-05 checks a visit's times against; `None` where no campaign has begun.
pub fn start_for(campaigns: &[Campaign], region: &RegionCode, now: Timestamp) -> Option<Date> {
    campaigns
        .iter()
        .filter(|c| c.region.contains(region) && c.window().0 <= now)
        .map(|c| c.starts_on)
        .max()
}

/// The campaign a visit to a household of `village` finished (corrected) at `order_time` belongs
/// to: at most one, since campaigns of nested regions never overlap in time.
pub fn holding<'c>(
    campaigns: &'c [Campaign],
    village: &RegionCode,
    order_time: Timestamp,
) -> Option<&'c Campaign> {
    campaigns.iter().find(|c| {
        let (from, until) = c.window();
        c.region.contains(village) && from <= order_time && order_time < until
    })
}

/// Counts the households visited in `campaign` from the visits stored, when it is created after
/// some of its visits arrived (or a database gains the tallies).
fn count_stored_visits(conn: Conn<'_>, campaign: &Campaign) -> Result<(), DbError> {
    let (from, until) = campaign.window();
    let visited = store::campaigns::visited_between(
        conn,
        campaign.region.as_str(),
        from.unix_millis(),
        until.unix_millis(),
    )?;
    for (village, household) in visited {
        store::campaigns::count_visited(conn, &campaign.id, &village, &household)?;
    }
    Ok(())
}

/// Fills the campaigns' tallies from the stored visits, when a database gains them (schema.rs).
pub fn count_all_visited(conn: Conn<'_>) -> Result<(), DbError> {
    for campaign in all(conn)? {
        count_stored_visits(conn, &campaign)?;
    }
    Ok(())
}

fn parse_day(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// What the form to create a campaign sends.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub region: String,
    pub starts_on: String,
    pub ends_on: String,
}

/// Creates a campaign of a region inside the admin's. Refused: dates that are no dates or end
/// before they start (CMP-02), or a campaign overlapping one of a nested region (CMP-01).
pub async fn create(db: &Db, who: &SupervisorAuth, new: NewCampaign) -> Result<String, ApiError> {
    who.check_role(roles::MANAGE)?;
    let region = region_in_scope(who, Some(new.region.trim()))?;
    let name = new.name.trim().to_owned();
    let (Some(starts_on), Some(ends_on)) = (parse_day(&new.starts_on), parse_day(&new.ends_on))
    else {
        return Err(ApiError::bad_request(error::CAMPAIGN_DATES));
    };
    if name.is_empty() || ends_on < starts_on || (ends_on - starts_on) > Duration::days(366) {
        return Err(ApiError::bad_request(error::CAMPAIGN_DATES));
    }
    let campaign = Campaign {
        id: Uuid::new_v4().to_string(),
        region,
        name,
        starts_on,
        ends_on,
    };
    let actor = who.actor();
    db.write(move |tx| {
        let overlaps = all(tx)?.iter().any(|c| {
            c.nests_with(&campaign.region)
                && c.starts_on <= campaign.ends_on
                && campaign.starts_on <= c.ends_on
        });
        if overlaps {
            return Err(ApiError::bad_request(error::CAMPAIGN_OVERLAPS));
        }
        store::campaigns::insert(
            tx,
            &store::campaigns::NewCampaign {
                campaign_id: &campaign.id,
                region: campaign.region.as_str(),
                name: &campaign.name,
                starts_on: &campaign.starts_on.to_string(),
                ends_on: &campaign.ends_on.to_string(),
                created_by: &actor,
                created_at: Timestamp::now_utc().unix_millis(),
            },
        )?;
        count_stored_visits(tx, &campaign)?;
        // Conflicts are those within a campaign now: the households that two enumerators visited
        // are merged again (only they can hold a conflict), and phones pull what changed.
        let shared = store::campaigns::shared_households(tx, campaign.region.as_str())?;
        let now = Timestamp::now_utc();
        for id in &shared {
            let id = HouseholdId::parse(id)
                .map_err(|e| DbError::Inconsistent(format!("household id: {e}")))?;
            households::remerge(tx, id, now)?;
        }
        let detail = format!(
            "{} {}..{}",
            campaign.name, campaign.starts_on, campaign.ends_on
        );
        audit::record_in(
            tx,
            Some(campaign.region.as_str()),
            &actor,
            "campaign:create",
            Some(&campaign.id),
            Some(&detail),
        )?;
        Ok(campaign.id)
    })
    .await
}

/// A campaign with the work done in it.
#[derive(Debug, Clone)]
pub struct CampaignProgress {
    pub campaign: Campaign,
    /// Households on the target list of its region (ACTIVE) now.
    pub targets: u64,
    /// Households with at least one visit of the campaign.
    pub visited: u64,
    /// Visits that belong to the campaign.
    pub visits: u64,
    /// Whether today lies in its days.
    pub under_way: bool,
}

/// The campaigns of `region` (the reader's scope unless narrower) and of the regions around and
/// inside it, newest first, each with its progress. Every role reads them.
pub async fn progress(
    db: &Db,
    who: &SupervisorAuth,
    region: Option<&str>,
) -> Result<(RegionCode, Vec<CampaignProgress>), ApiError> {
    let region = region_in_scope(who, region)?;
    let asked = region.clone();
    let now = Timestamp::now_utc();
    let lines = db
        .read(move |conn| {
            let mut lines = Vec::new();
            for campaign in all(conn)?.into_iter().rev() {
                if !campaign.nests_with(&asked) {
                    continue;
                }
                // Counted inside the reader's region as well as the campaign's.
                let place = if asked.contains(&campaign.region) {
                    campaign.region.clone()
                } else {
                    asked.clone()
                };
                lines.push(counted(conn, campaign, &place, now)?);
            }
            Ok::<_, ApiError>(lines)
        })
        .await?;
    Ok((region, lines))
}

fn counted(
    conn: Conn<'_>,
    campaign: Campaign,
    place: &RegionCode,
    now: Timestamp,
) -> Result<CampaignProgress, DbError> {
    let (from, until) = campaign.window();
    let targets = store::campaigns::targets_in(conn, place.as_str())?;
    // Read from the tallies: the visits' own rows are too many to count for a page.
    let offset = utc_offset_hours(&campaign.region);
    let visits = tallies::visits_between(
        conn,
        place,
        tallies::local_day(from.unix_millis(), offset),
        tallies::local_day(until.unix_millis() - 1, offset),
    )?;
    let (first, last) = code_range(place);
    let visited = store::campaigns::visited_in(conn, &campaign.id, (&first, &last))?;
    Ok(CampaignProgress {
        under_way: from <= now && now < until,
        campaign,
        targets,
        visited,
        visits,
    })
}

/// Today in the region's time zone, for the form's default dates.
pub fn today(region: &RegionCode) -> Date {
    let offset = UtcOffset::from_hms(utc_offset_hours(region), 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(region: &str, starts: Date, ends: Date) -> Campaign {
        Campaign {
            id: "c".into(),
            region: RegionCode::parse(region).unwrap(),
            name: "Verval".into(),
            starts_on: starts,
            ends_on: ends,
        }
    }

    #[test]
    fn a_campaigns_days_are_its_regions_local_days() {
        use time::macros::{date, datetime};
        // Lahat (WIB, UTC+7) and Jayapura (WIT, UTC+9): the same dates, different instants.
        let lahat = campaign("16.04", date!(2026 - 12 - 01), date!(2026 - 12 - 31));
        assert_eq!(
            lahat.window(),
            (
                Timestamp(datetime!(2026-11-30 17:00 UTC)),
                Timestamp(datetime!(2026-12-31 17:00 UTC))
            )
        );
        let papua = campaign("91.71", date!(2026 - 12 - 01), date!(2026 - 12 - 31));
        assert_eq!(papua.window().0, Timestamp(datetime!(2026-11-30 15:00 UTC)));

        let village = RegionCode::parse("16.04.01.2001").unwrap();
        let before = Timestamp(datetime!(2026-11-30 16:59 UTC));
        let after = Timestamp(datetime!(2026-11-30 17:00 UTC));
        let all = [lahat];
        assert_eq!(start_for(&all, &village, before), None);
        assert_eq!(
            start_for(&all, &village, after),
            Some(date!(2026 - 12 - 01))
        );
        let elsewhere = RegionCode::parse("16.05.01.2001").unwrap();
        assert_eq!(start_for(&all, &elsewhere, after), None);
    }
}
