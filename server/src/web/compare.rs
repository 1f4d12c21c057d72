//! The visits of a conflict side by side: one column per visit, one row per thing observed,
//! and the rows where the visits differ marked, so a supervisor sees at a glance what the
//! enumerators disagree on before choosing the visit that is right.

use std::collections::BTreeMap;

use serde_json::Value;
use verivali_core::model::{Visit, VisitId};

use super::catalogue::Lang;
use crate::reports::local_time;
use crate::supervision::VisitRecord;

pub struct Column {
    pub visit_id: String,
    pub enumerator: String,
    pub finished: String,
}

pub struct Row {
    pub field: String,
    pub values: Vec<String>,
    pub differs: bool,
}

pub struct Comparison {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// The comparison of the visits `ids` among a household's `visits`; `None` with fewer than two.
pub fn of(
    lang: Lang,
    visits: &[VisitRecord],
    ids: &[VisitId],
    offset_hours: i8,
) -> Option<Comparison> {
    let chosen: Vec<&VisitRecord> = visits
        .iter()
        .filter(|v| ids.contains(&v.visit.visit_id))
        .collect();
    if chosen.len() < 2 {
        return None;
    }
    let observed: Vec<BTreeMap<String, String>> = chosen
        .iter()
        .map(|v| observations(lang, &v.visit))
        .collect();
    let mut fields: Vec<&String> = observed.iter().flat_map(BTreeMap::keys).collect();
    fields.sort_by_key(|f| (field_rank(f), f.as_str()));
    fields.dedup();
    let rows = fields
        .into_iter()
        .map(|field| {
            let values: Vec<String> = observed
                .iter()
                .map(|o| o.get(field).cloned().unwrap_or_default())
                .collect();
            Row {
                differs: values.iter().any(|v| *v != values[0]),
                field: field.clone(),
                values,
            }
        })
        .collect();
    let columns = chosen
        .iter()
        .map(|v| Column {
            visit_id: v.visit.visit_id.to_string(),
            enumerator: v.visit.enumerator_id.to_string(),
            finished: local_time(v.order_time, offset_hours),
        })
        .collect();
    Some(Comparison { columns, rows })
}

/// The verdicts first, then what the visit says of the family, then the indicators.
fn field_rank(field: &str) -> u8 {
    match field {
        "outcome" => 0,
        "assessment" => 1,
        "recommendation" => 2,
        f if f.starts_with("housing.") || f.starts_with("welfare.") => 4,
        _ => 3,
    }
}

/// What a visit observed, field by field, as text. Identifiers, times and numbers that are
/// personal data (NIK, KK) are left out: the comparison is about what the enumerators saw.
fn observations(lang: Lang, visit: &Visit) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    let label = |v: Option<&'static str>| v.map(str::to_owned);
    for (field, value) in [
        ("outcome", label(visit.outcome.map(|o| lang.label(o)))),
        ("assessment", label(visit.assessment.map(|a| lang.label(a)))),
        (
            "recommendation",
            label(visit.recommendation.map(|r| lang.label(r))),
        ),
        ("respondent_name", visit.respondent_name.clone()),
        ("moved_to", visit.moved_to.clone()),
        ("notes", visit.notes.clone()),
        (
            "member_changes",
            Some(visit.member_changes.len().to_string()),
        ),
        ("photos", Some(visit.photos.len().to_string())),
        (
            "location",
            visit
                .location
                .as_ref()
                .map(|l| format!("{:.4}, {:.4}", l.lat, l.lon)),
        ),
    ] {
        if let Some(value) = value {
            seen.insert(field.to_owned(), value);
        }
    }
    for (group, value) in [
        ("housing", serde_json::to_value(&visit.housing)),
        ("welfare", serde_json::to_value(&visit.welfare)),
    ] {
        if let Ok(Value::Object(fields)) = value {
            for (name, v) in fields {
                seen.insert(format!("{group}.{name}"), text(&v));
            }
        }
    }
    seen
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verivali_core::model::*;
    use verivali_core::sample;

    fn record(visit: Visit) -> VisitRecord {
        VisitRecord {
            order_time: visit.finished_at.unwrap(),
            received_at: visit.finished_at.unwrap(),
            visit,
            skew_ms: 0,
            flags: Vec::new(),
            device_seq: 1,
            duplicate_of: None,
        }
    }

    #[test]
    fn the_fields_the_visits_disagree_on_are_marked() {
        let h = sample::household(1, &sample::village(), 1, 1);
        let at = Timestamp::parse("2026-11-20T08:00:00+07:00").unwrap();
        let one = sample::found_visit(
            &h,
            EnumeratorId(uuid::Uuid::from_u128(1)),
            DeviceId(uuid::Uuid::from_u128(11)),
            at,
            1,
        );
        let mut two = sample::found_visit(
            &h,
            EnumeratorId(uuid::Uuid::from_u128(2)),
            DeviceId(uuid::Uuid::from_u128(12)),
            at,
            1,
        );
        two.assessment = Some(Assessment::NotPoor);
        let ids = [one.visit_id, two.visit_id];
        let visits = [record(one), record(two)];
        let compared = of(Lang::En, &visits, &ids, 7).unwrap();
        assert_eq!(compared.columns.len(), 2);
        assert_eq!(compared.rows[0].field, "outcome");
        assert!(!compared.rows[0].differs);
        let assessment = compared
            .rows
            .iter()
            .find(|r| r.field == "assessment")
            .unwrap();
        assert!(assessment.differs);
        assert_eq!(assessment.values[1], "Not poor");
        assert!(of(Lang::En, &visits[..1], &ids, 7).is_none());
    }
}
