//! A verification visit: what one enumerator saw at one household at one time. A visit is a draft
//! on the phone until it is finished; from then on it is immutable, and a correction is a new visit
//! that `supersedes` it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::Date;

use super::codes::{Entered, KkNumber, RegionCode, Rt, Rw};
use super::enums::*;
use super::household::{Member, MemberDetails, overlay_fields};
use super::ids::{DeviceId, EnumeratorId, HouseholdId, MemberId, Sha256, Timestamp, VisitId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub visit_id: VisitId,
    /// The household visited. For a new-household proposal, the id the phone made for it, so that
    /// later visits can name it; a draft may lack it until the form is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<HouseholdId>,
    /// A household not on the list: where it is and who heads it. The server adds it as PROPOSED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<HouseholdProposal>,
    pub enumerator_id: EnumeratorId,
    pub device_id: DeviceId,
    pub started_at: Timestamp,
    /// Set when the visit is finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The RW and RT where the household was found. P3KE lists carry none (domain.md §0.2): the
    /// merge gives the household the latest ones seen, so RT heads' areas fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<Entered<Rw>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<Entered<Rt>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Where the family moved (MOVED_WITHIN_VILLAGE, MOVED_AWAY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// The other listed household (DUPLICATE_OF, PART_OF_OTHER_FAMILY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_household_id: Option<HouseholdId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_relation: Option<Relation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// The family card number seen at the visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kk_number: Option<Entered<KkNumber>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kk_change_reason: Option<KkChangeReason>,
    /// The enumerator went through the member list with the respondent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub members_reviewed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_changes: Vec<MemberChange>,
    #[serde(default, skip_serializing_if = "Housing::is_empty")]
    pub housing: Housing,
    #[serde(default, skip_serializing_if = "Welfare::is_empty")]
    pub welfare: Welfare,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<Photo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// An earlier finished visit of the same device that this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<VisitId>,
    /// The enumerator's reason for each warning, keyed by [`crate::validate::Issue::key`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub warning_reasons: BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Visit {
    /// A new, empty draft.
    pub fn draft(
        household_id: Option<HouseholdId>,
        enumerator_id: EnumeratorId,
        device_id: DeviceId,
        started_at: Timestamp,
    ) -> Self {
        Self {
            visit_id: VisitId::new_v7(),
            household_id,
            proposal: None,
            enumerator_id,
            device_id,
            started_at,
            finished_at: None,
            location: None,
            rw: None,
            rt: None,
            outcome: None,
            moved_to: None,
            other_household_id: None,
            respondent_name: None,
            respondent_relation: None,
            consent: None,
            kk_number: None,
            kk_change_reason: None,
            members_reviewed: false,
            member_changes: Vec::new(),
            housing: Housing::default(),
            welfare: Welfare::default(),
            assessment: None,
            recommendation: None,
            photos: Vec::new(),
            notes: None,
            supersedes: None,
            warning_reasons: BTreeMap::new(),
        }
    }
}

/// A household the enumerator found that is not on the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdProposal {
    pub region: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<Entered<Rw>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<Entered<Rt>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub head_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    pub source: LocationSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    pub sha256: Sha256,
    pub kind: PhotoKind,
}

/// A change to the member list, addressed by `member_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum MemberChange {
    /// A member not on the list (born, married in, or missing from the source).
    Add {
        member: Member,
    },
    /// Fields observed for a listed member; absent fields keep their value.
    Update {
        member_id: MemberId,
        details: MemberDetails,
    },
    MarkPresent {
        member_id: MemberId,
    },
    MarkMoved {
        member_id: MemberId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<Date>,
    },
    MarkDeceased {
        member_id: MemberId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<Date>,
    },
}

impl MemberChange {
    pub fn member_id(&self) -> MemberId {
        match self {
            Self::Add { member } => member.member_id,
            Self::Update { member_id, .. }
            | Self::MarkPresent { member_id }
            | Self::MarkMoved { member_id, .. }
            | Self::MarkDeceased { member_id, .. } => *member_id,
        }
    }
}

/// Housing indicators (Blok III). Every field optional: absent means not observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Housing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenure: Option<Tenure>,
    /// Whether the land has a title; asked only for an owned house.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_title: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_area_m2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorMaterial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallMaterial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof: Option<RoofMaterial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof_quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lighting: Option<Lighting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_rating: Option<PowerRating>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooking_fuel: Option<CookingFuel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drinking_water: Option<DrinkingWater>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanitation: Option<Sanitation>,
}

impl Housing {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn overlay(&mut self, newer: &Housing) {
        overlay_fields!(self, newer; tenure, land_title, floor_area_m2, floor, floor_quality,
            wall, wall_quality, roof, roof_quality, lighting, power_rating, cooking_fuel,
            drinking_water, sanitation);
    }
}

/// Assets, consumption and programs (Blok V and the BPS criteria 8–14).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Welfare {
    /// The assets owned; an empty set means "none", absent means "not asked".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<BTreeSet<Asset>>,
    /// Savings or easily sold goods worth at least Rp500,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_savings_500k: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meals_per_day: Option<u8>,
    /// How often a week the family eats meat, milk or chicken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meat_milk_per_week: Option<u8>,
    /// Sets of new clothes bought per person in a year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_clothes_per_year: Option<u8>,
    /// Can pay for treatment at a puskesmas or clinic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_afford_clinic: Option<bool>,
    /// Monthly income of the head, in rupiah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_monthly_income_rp: Option<u64>,
    /// The household's monthly expenditure, in rupiah.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_expenditure_rp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programs_received: Option<BTreeSet<ProgramReceived>>,
}

impl Welfare {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn overlay(&mut self, newer: &Welfare) {
        overlay_fields!(self, newer; assets, has_savings_500k, meals_per_day, meat_milk_per_week,
            new_clothes_per_year, can_afford_clinic, head_monthly_income_rp,
            monthly_expenditure_rp, programs_received);
    }
}
