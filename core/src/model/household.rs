//! A target household and its members, as the source list gives them (the merge's baseline).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;

use super::codes::{Entered, KkNumber, Nik, RegionCode, Rt, Rw};
use super::enums::*;
use super::ids::{HouseholdId, MemberId};

/// A household on the target list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Household {
    pub household_id: HouseholdId,
    pub source: Source,
    /// The source's own id (e.g. ID Keluarga P3KE). Never the family card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kk_number: Option<Entered<KkNumber>>,
    /// Welfare decile, 1–10 (DTSEN) or 1–4 (P3KE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decile: Option<u8>,
    /// The village (desa / kelurahan) code.
    pub region: RegionCode,
    /// P3KE files carry no RT/RW: they are collected in the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<Rw>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<Rt>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    pub head_name: String,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub programs: BTreeSet<SourceProgram>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_priority: Option<SourcePriority>,
    pub target_status: TargetStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
}

/// A member of a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub member_id: MemberId,
    /// The source's individual id (ID Individu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_member_id: Option<String>,
    pub details: MemberDetails,
    pub presence: Presence,
    /// When the member moved out or died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_date: Option<Date>,
}

/// Everything about a member that a visit may observe. Every field is optional: in a visit's
/// update, an absent field means "not observed", never "erase".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik: Option<Entered<Nik>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik_missing_reason: Option<NikMissingReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<MaritalStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education: Option<Education>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupation: Option<Occupation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employment_status: Option<EmploymentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabilities: Option<BTreeSet<Disability>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chronic_illness: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dukcapil_match: Option<DukcapilMatch>,
}

/// Takes every field that `newer` observed; keeps the rest.
macro_rules! overlay_fields {
    ($target:expr, $newer:expr; $($field:ident),+) => {
        $( if let Some(v) = &$newer.$field { $target.$field = Some(v.clone()); } )+
    };
}
pub(crate) use overlay_fields;

impl MemberDetails {
    /// Applies an observation field by field: what `newer` left out stays as it was.
    pub fn overlay(&mut self, newer: &MemberDetails) {
        overlay_fields!(self, newer; name, nik, nik_missing_reason, sex, birth_place, birth_date,
            relation, marital_status, education, occupation, employment_status, disabilities,
            chronic_illness, dukcapil_match);
    }
}

impl Member {
    pub fn name(&self) -> &str {
        self.details.name.as_deref().unwrap_or("")
    }

    /// The member's NIK, when the one entered is valid.
    pub fn nik(&self) -> Option<&Nik> {
        self.details.nik.as_ref().and_then(Entered::valid)
    }

    /// Still living in the household (present, or newly added).
    pub fn is_active(&self) -> bool {
        matches!(
            self.presence,
            Presence::Present | Presence::New | Presence::Unknown
        )
    }

    /// Age in whole years on `on`, if the birth date is known.
    pub fn age_on(&self, on: Date) -> Option<i32> {
        let born = self.details.birth_date?;
        let mut age = on.year() - born.year();
        if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
            age -= 1;
        }
        Some(age)
    }
}
