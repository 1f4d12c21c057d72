//! Supervisors' decisions and whose phones receive them ([`crate::review`] decides).

use super::Conn;
use crate::db::DbError;

/// The enumerator who made visit `visit_id` of household `household_id`.
pub fn visit_owner(
    conn: Conn<'_>,
    visit_id: &str,
    household_id: &str,
) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT enumerator_id FROM visits WHERE visit_id = ?1 AND household_id = ?2",
        &[&visit_id, &household_id],
    )
}

/// The enumerator who made visit `visit_id`.
pub fn enumerator_of_visit(conn: Conn<'_>, visit_id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT enumerator_id FROM visits WHERE visit_id = ?1",
        &[&visit_id],
    )
}

/// When the latest decision on a household was made (unix ms).
pub fn latest_decided_at(conn: Conn<'_>, household_id: &str) -> Result<Option<i64>, DbError> {
    conn.value(
        "SELECT max(decided_at) FROM reviews WHERE household_id = ?1",
        &[&household_id],
    )
}

/// The body (JSON) of the decision stored under `review_id`.
pub fn body(conn: Conn<'_>, review_id: &str) -> Result<Option<String>, DbError> {
    conn.optional_value(
        "SELECT body FROM reviews WHERE review_id = ?1",
        &[&review_id],
    )
}

/// A decision as stored.
#[derive(Debug)]
pub struct NewReview<'a> {
    pub review_id: &'a str,
    pub household_id: &'a str,
    pub region: &'a str,
    pub visit_id: Option<&'a str>,
    /// Whose visit it decides; `None` for a decision on the household.
    pub enumerator_id: Option<&'a str>,
    pub body: &'a str,
    pub decided_at: i64,
    pub change_seq: i64,
}

/// Stores a decision, and addresses it to `recipients`' phones.
pub fn insert<'r>(
    conn: Conn<'_>,
    review: &NewReview<'_>,
    recipients: impl IntoIterator<Item = &'r str>,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO reviews (review_id, household_id, region, visit_id, enumerator_id, body,
             decided_at, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            &review.review_id,
            &review.household_id,
            &review.region,
            &review.visit_id,
            &review.enumerator_id,
            &review.body,
            &review.decided_at,
            &review.change_seq,
        ],
    )?;
    for enumerator in recipients {
        conn.execute(
            "INSERT INTO review_recipients (enumerator_id, change_seq, review_id, region)
             VALUES (?1, ?2, ?3, ?4)",
            &[
                &enumerator,
                &review.change_seq,
                &review.review_id,
                &review.region,
            ],
        )?;
    }
    Ok(())
}

/// Marks the pair `a` < `b` of suspected duplicates dismissed.
pub fn dismiss_duplicate(conn: Conn<'_>, (a, b): (&str, &str), at: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE duplicates SET dismissed_at = ?3 WHERE household_a = ?1 AND household_b = ?2",
        &[&a, &b, &at],
    )?;
    Ok(())
}
