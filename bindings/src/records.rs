//! Records that cross to Kotlin, Swift and Python (data classes there), each converted from the
//! core's type it mirrors. Codes go as their wire text, with labels where a screen shows them.

use verivali_core::merge::{ConflictField, Merged};
use verivali_core::model::*;
use verivali_core::store::{
    self, Enrollment, HouseholdNotice, InboxItem, NoticeKind, OutboxEntry, OutboxState,
};
use verivali_core::sync::{Phase, SyncSummary};
use verivali_core::validate::{Issue, rules};

#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrollmentInfo {
    pub server_url: String,
    pub device_id: String,
    pub enumerator_id: String,
    pub enumerator_name: String,
    /// Areas as `village[/RW[/RT]]`, e.g. `16.04.01.2001/001`.
    pub areas: Vec<String>,
}

impl From<Enrollment> for EnrollmentInfo {
    fn from(e: Enrollment) -> Self {
        Self {
            server_url: e.server_url,
            device_id: e.device_id.to_string(),
            enumerator_id: e.enumerator_id.to_string(),
            enumerator_name: e.enumerator_name,
            areas: e
                .areas
                .iter()
                .map(|a| {
                    [
                        Some(a.region.to_string()),
                        a.rw.as_ref().map(|r| r.to_string()),
                        a.rt.as_ref().map(|r| r.to_string()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/")
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncPhase {
    Push,
    Photos,
    Pull,
}

impl From<Phase> for SyncPhase {
    fn from(p: Phase) -> Self {
        match p {
            Phase::Push => Self::Push,
            Phase::Photos => Self::Photos,
            Phase::Pull => Self::Pull,
        }
    }
}

/// A bundle written for a phone without signal.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BundleWritten {
    pub path: String,
    pub visits: u64,
    pub photos: u64,
    pub bytes: u64,
}

/// What one sync did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedLine>,
    pub photos_sent: u64,
    pub households_pulled: u64,
    pub reviews_pulled: u64,
    pub households_removed: u64,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedLine {
    pub visit_id: String,
    pub device_seq: u64,
    pub issues: Vec<IssueInfo>,
}

impl From<SyncSummary> for SyncReport {
    fn from(s: SyncSummary) -> Self {
        Self {
            accepted: s.accepted,
            duplicates: s.duplicates,
            rejected: s
                .rejected
                .iter()
                .map(|r| RejectedLine {
                    visit_id: r.visit_id.to_string(),
                    device_seq: r.device_seq,
                    issues: r.issues.iter().map(IssueInfo::from).collect(),
                })
                .collect(),
            photos_sent: s.photos_sent,
            households_pulled: s.households_pulled,
            reviews_pulled: s.reviews_pulled,
            households_removed: s.households_removed,
        }
    }
}

/// A validation finding or a server's reason: stable code, severity, the field's wire path and
/// both messages.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssueInfo {
    pub code: String,
    /// `ERROR` blocks finishing; a `WARNING` needs a reason; `INFO` is a note.
    pub severity: String,
    pub field: String,
    pub message_id: String,
    pub message_en: String,
    /// The key under which a warning's reason goes in the visit's `warning_reasons`.
    pub key: String,
}

impl From<&Issue> for IssueInfo {
    fn from(i: &Issue) -> Self {
        Self {
            code: i.code.clone(),
            severity: i.severity.code().to_owned(),
            field: i.field.clone(),
            message_id: i.message_id.clone(),
            message_en: i.message_en.clone(),
            key: i.key(),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct FinishResult {
    pub finished: bool,
    pub device_seq: Option<u64>,
    pub issues: Vec<IssueInfo>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HouseholdRow {
    pub household_id: String,
    pub head_name: String,
    pub address: String,
    pub rw: Option<String>,
    pub rt: Option<String>,
    pub status: String,
    pub status_label_id: String,
    pub status_label_en: String,
}

impl From<store::HouseholdSummary> for HouseholdRow {
    fn from(s: store::HouseholdSummary) -> Self {
        Self {
            household_id: s.household_id.to_string(),
            head_name: s.head_name,
            address: s.address,
            rw: s.rw,
            rt: s.rt,
            status: s.status.code().to_owned(),
            status_label_id: s.status.label_id().to_owned(),
            status_label_en: s.status.label_en().to_owned(),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct MemberRow {
    pub member_id: String,
    pub name: String,
    /// First 4 and last 4 digits only: screens never show a whole NIK.
    pub nik_masked: Option<String>,
    pub relation: Option<String>,
    pub birth_date: Option<String>,
    pub presence: String,
}

/// One household as merged on the server and pulled.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HouseholdDetail {
    pub household_id: String,
    pub region: String,
    pub head_name: String,
    pub address: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assessment: Option<String>,
    pub members: Vec<MemberRow>,
    pub state_hash: String,
    /// The whole merged state as wire JSON, for what the form prefills.
    pub state_json: String,
}

impl From<Merged> for HouseholdDetail {
    fn from(m: Merged) -> Self {
        let s = &m.state;
        let h = &s.household;
        Self {
            household_id: h.household_id.to_string(),
            region: h.region.to_string(),
            head_name: h.head_name.clone(),
            address: h.address.clone(),
            status: s.status.code().to_owned(),
            outcome: s.outcome.map(|o| o.code().to_owned()),
            assessment: s.assessment.map(|a| a.code().to_owned()),
            members: h
                .members
                .iter()
                .map(|member| MemberRow {
                    member_id: member.member_id.to_string(),
                    name: member.name().to_owned(),
                    nik_masked: member.nik().map(Nik::masked),
                    relation: member.details.relation.map(|r| r.code().to_owned()),
                    birth_date: member.details.birth_date.map(|d| d.to_string()),
                    presence: member.presence.code().to_owned(),
                })
                .collect(),
            state_hash: m.state_hash.to_string(),
            state_json: serde_json::to_string(&m.state).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct DraftRow {
    pub visit_id: String,
    pub household_id: Option<String>,
    pub outcome: Option<String>,
    /// For a draft reopened after the server rejected it: the server's reasons.
    pub rejection: Vec<IssueInfo>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct OutboxLine {
    pub device_seq: u64,
    pub visit_id: String,
    pub household_id: Option<String>,
    /// `PENDING`, `ACCEPTED`, `DUPLICATE` or `REJECTED`.
    pub state: String,
    pub issues: Vec<IssueInfo>,
    pub reopened_as: Option<String>,
}

impl From<OutboxEntry> for OutboxLine {
    fn from(o: OutboxEntry) -> Self {
        Self {
            device_seq: o.device_seq,
            visit_id: o.visit_id.to_string(),
            household_id: o.household_id.map(|h| h.to_string()),
            state: OutboxState::code(o.state).to_owned(),
            issues: o.issues.iter().map(IssueInfo::from).collect(),
            reopened_as: o.reopened_as.map(|v| v.to_string()),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct InboxLine {
    pub review_id: String,
    pub household_id: String,
    pub head_name: Option<String>,
    pub visit_id: Option<String>,
    /// `RETURN`, `REQUEST_REVISIT` or `RESOLVE_CONFLICT`.
    pub decision: String,
    pub decision_label_id: String,
    pub decision_label_en: String,
    pub comment: Option<String>,
    pub decided_at: String,
    pub read: bool,
    /// `RESOLVE_CONFLICT`: whether the supervisor chose this phone's visit (false: another
    /// enumerator's answer stands).
    pub chosen_visit_is_mine: Option<bool>,
}

impl From<InboxItem> for InboxLine {
    fn from(i: InboxItem) -> Self {
        let r = i.review;
        Self {
            review_id: r.review_id.to_string(),
            household_id: r.household_id.to_string(),
            head_name: i.head_name,
            visit_id: r.visit_id.map(|v| v.to_string()),
            decision: r.decision.code().to_owned(),
            decision_label_id: r.decision.label_id().to_owned(),
            decision_label_en: r.decision.label_en().to_owned(),
            comment: r.comment,
            decided_at: rfc3339(r.decided_at),
            read: i.read,
            chosen_visit_is_mine: i.chosen_visit_is_mine,
        }
    }
}

/// A household of this phone's work whose pulled state needs the enumerator's attention:
/// `CONFLICT` (this phone's visit and another enumerator's disagree, a supervisor decides) or
/// `CHANGED` (SYN-01: another enumerator's visit changed it since the draft `draft_id` was
/// opened).
#[derive(Debug, Clone, uniffi::Record)]
pub struct NoticeLine {
    pub household_id: String,
    pub head_name: String,
    pub kind: String,
    pub code: String,
    pub message_id: String,
    pub message_en: String,
    pub draft_id: Option<String>,
    /// `CHANGED`: when the other visit was finished (RFC 3339).
    pub changed_at: Option<String>,
}

impl From<HouseholdNotice> for NoticeLine {
    fn from(n: HouseholdNotice) -> Self {
        let (kind, code, message_id, message_en, draft_id, changed_at) = match n.kind {
            NoticeKind::Conflict { fields } => {
                let (id, en): (Vec<&str>, Vec<&str>) =
                    fields.iter().map(|f| conflict_field_labels(*f)).unzip();
                (
                    "CONFLICT",
                    "CONFLICT",
                    format!(
                        "Kunjungan Anda dan kunjungan petugas lain berbeda ({}). Supervisor akan memutuskan.",
                        id.join(", ")
                    ),
                    format!(
                        "Your visit and another enumerator's disagree ({}). A supervisor will decide.",
                        en.join(", ")
                    ),
                    None,
                    None,
                )
            }
            NoticeKind::ChangedSinceDraft {
                draft_id,
                changed_at,
            } => (
                "CHANGED",
                rules::SYN_01.code,
                rules::SYN_01.message_id.to_owned(),
                rules::SYN_01.message_en.to_owned(),
                Some(draft_id.to_string()),
                Some(rfc3339(changed_at)),
            ),
        };
        Self {
            household_id: n.household_id.to_string(),
            head_name: n.head_name,
            kind: kind.to_owned(),
            code: code.to_owned(),
            message_id,
            message_en,
            draft_id,
            changed_at,
        }
    }
}

fn conflict_field_labels(field: ConflictField) -> (&'static str, &'static str) {
    match field {
        ConflictField::Outcome => ("hasil kunjungan", "visit outcome"),
        ConflictField::Assessment => ("penilaian", "assessment"),
        ConflictField::Recommendation => ("rekomendasi", "recommendation"),
    }
}

fn rfc3339(t: Timestamp) -> String {
    t.0.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One answer of a pick list, with both labels.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Choice {
    pub code: String,
    pub label_id: String,
    pub label_en: String,
}

fn all<T: Labelled>() -> Vec<Choice> {
    T::ALL
        .iter()
        .map(|v| Choice {
            code: v.code().to_owned(),
            label_id: v.label_id().to_owned(),
            label_en: v.label_en().to_owned(),
        })
        .collect()
}

/// The answers of one pick list of the visit form, by the wire path of its question; those of a
/// member (`member.sex`, `member.relation`, `member.nik_missing_reason`, `member.presence`) and
/// of a photo (`photo.kind`) by the path inside the item.
#[uniffi::export]
pub fn choices(path: String) -> Vec<Choice> {
    match path.as_str() {
        "outcome" => all::<Outcome>(),
        "assessment" => all::<Assessment>(),
        "recommendation" => all::<Recommendation>(),
        "consent" => all::<Consent>(),
        "respondent_relation" => all::<Relation>(),
        "housing.tenure" => all::<Tenure>(),
        "housing.floor" => all::<FloorMaterial>(),
        "housing.wall" => all::<WallMaterial>(),
        "housing.roof" => all::<RoofMaterial>(),
        "housing.lighting" => all::<Lighting>(),
        "housing.power_rating" => all::<PowerRating>(),
        "housing.cooking_fuel" => all::<CookingFuel>(),
        "housing.drinking_water" => all::<DrinkingWater>(),
        "housing.sanitation" => all::<Sanitation>(),
        "welfare.assets" => all::<Asset>(),
        "welfare.programs_received" => all::<ProgramReceived>(),
        "kk_change_reason" => all::<KkChangeReason>(),
        "member.sex" => all::<Sex>(),
        "member.relation" => all::<Relation>(),
        "member.nik_missing_reason" => all::<NikMissingReason>(),
        "member.presence" => all::<Presence>(),
        "photo.kind" => all::<PhotoKind>(),
        _ => Vec::new(),
    }
}
