//! Validation (DESIGN §4, domain.md §10): rules that return data, never exceptions. Each issue
//! carries its rule's stable code, severity, the field it concerns and both messages. The phone
//! validates before a visit can be finished; the server validates again on push.
//!
//! Field paths are stable strings the phone maps to its form: `outcome`, `housing.floor_area_m2`,
//! `members.<member_id>.nik`, `proposal.rt`, `photos.<sha256>`.

pub mod rules;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::merge::apply_member_changes;
use crate::model::*;
pub use rules::{Rule, Severity};

/// One finding of validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: String,
    pub severity: Severity,
    pub field: String,
    pub message_id: String,
    pub message_en: String,
    /// For a warning: the reason the enumerator gave to go on despite it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Issue {
    pub fn new(rule: &Rule, field: impl Into<String>) -> Self {
        Self {
            code: rule.code.to_owned(),
            severity: rule.severity,
            field: field.into(),
            message_id: rule.message_id.to_owned(),
            message_en: rule.message_en.to_owned(),
            reason: None,
        }
    }

    /// An issue whose messages name something (the `…` of the rule's text).
    pub fn naming(rule: &Rule, field: impl Into<String>, detail: &str) -> Self {
        let mut issue = Self::new(rule, field);
        issue.message_id = issue.message_id.replace('…', detail);
        issue.message_en = issue.message_en.replace('…', detail);
        issue
    }

    /// The key under which a visit's `warning_reasons` holds the reason for this issue.
    pub fn key(&self) -> String {
        format!("{}@{}", self.code, self.field)
    }

    /// Whether this issue stops a visit from being finished: an error, or a warning without a
    /// reason.
    pub fn blocks_finishing(&self) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Warning => self.reason.as_deref().is_none_or(|r| r.trim().is_empty()),
            Severity::Info => false,
        }
    }
}

/// Finds other households holding a NIK (NIK-09). The phone answers from the households it holds;
/// the server from the whole district.
pub trait NikDirectory {
    fn household_with_nik(&self, nik: &Nik, except: Option<HouseholdId>) -> Option<HouseholdId>;
}

/// What validation needs to know beyond the visit itself. Every lookup is optional: a check whose
/// data is missing is skipped, never guessed.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The reference time: the phone's clock, or the server's skew-corrected time.
    pub now: Timestamp,
    pub campaign_start: Option<Date>,
    pub regions: Option<&'a dyn RegionLookup>,
    /// The household as known before this visit (baseline merged with earlier visits).
    pub household: Option<&'a Household>,
    pub niks: Option<&'a dyn NikDirectory>,
    /// Earlier NOBODY_HOME visits to this household (VIS-07).
    pub earlier_nobody_home: u32,
    /// Whether an attachment is stored (VIS-08); the server checks attachments on its own.
    pub has_attachment: Option<&'a dyn Fn(&Sha256) -> bool>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("now", &self.now)
            .field("campaign_start", &self.campaign_start)
            .field("household", &self.household.map(|h| h.household_id))
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    pub fn new(now: Timestamp) -> Self {
        Self {
            now,
            campaign_start: None,
            regions: None,
            household: None,
            niks: None,
            earlier_nobody_home: 0,
            has_attachment: None,
        }
    }

    fn today(&self) -> Date {
        self.now.0.date()
    }
}

/// Phone clocks drift; a visit up to this far in the future of `now` is not an error.
const CLOCK_TOLERANCE: Duration = Duration::minutes(10);
const SHORT_INTERVIEW: Duration = Duration::minutes(2);
/// A GPS point less precise than this (metres) is VIS-03: a retake or a reason.
pub const MAX_GPS_ACCURACY_M: f64 = 50.0;
const MIN_FLOOR_PER_PERSON_M2: f64 = 8.0;
const ADULT_AGE: i32 = 17;
const MARRIAGE_AGE: i32 = 19;
const MAX_AGE: i32 = 120;

/// Validates a visit about to be finished (or received). Returns every issue found; warnings
/// carry the enumerator's reason where the visit gives one.
pub fn validate_visit(visit: &Visit, ctx: &Context<'_>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let refused =
        visit.consent == Some(Consent::Refused) || visit.outcome == Some(Outcome::FoundRefused);

    check_times(visit, ctx, &mut issues);
    check_texts(visit, &mut issues);
    check_household_target(visit, ctx, &mut issues);
    check_place_found(visit, ctx, &mut issues);
    check_outcome(visit, ctx, &mut issues);
    if refused {
        check_refusal(visit, &mut issues);
    }
    check_location(visit, &mut issues);
    check_photos(visit, ctx, &mut issues);
    check_housing(&visit.housing, members_after(visit, ctx).len(), &mut issues);
    check_welfare(&visit.welfare, &mut issues);
    check_kk(visit, ctx, &mut issues);
    check_members(visit, ctx, &mut issues);

    for issue in &mut issues {
        if issue.severity == Severity::Warning {
            issue.reason = visit.warning_reasons.get(&issue.key()).cloned();
        }
    }
    issues
}

/// Validates a household as a source list gives it (used by imports): decile, family card,
/// members and the family's shape.
pub fn validate_household(household: &Household, ctx: &Context<'_>) -> Vec<Issue> {
    let mut issues = Vec::new();
    if let Some(decile) = household.decile
        && !(1..=10).contains(&decile)
    {
        issues.push(Issue::new(&rules::DES_01, "decile"));
    }
    if let Some(regions) = ctx.regions
        && !regions.contains(&household.region)
    {
        issues.push(Issue::new(&rules::REG_01, "region"));
    }
    if let Some(kk) = &household.kk_number
        && let Some(rule) = kk.problem()
    {
        issues.push(Issue::new(rule, "kk_number"));
    }
    let active: Vec<&Member> = household.members.iter().filter(|m| m.is_active()).collect();
    for member in &household.members {
        check_member(member, ctx, &mut issues);
    }
    check_family_shape(&active, ctx.today(), &mut issues);
    issues
}

/// The household's members as they would be after this visit.
fn members_after(visit: &Visit, ctx: &Context<'_>) -> Vec<Member> {
    let mut members = ctx.household.map(|h| h.members.clone()).unwrap_or_default();
    apply_member_changes(&mut members, &visit.member_changes);
    members.retain(Member::is_active);
    members
}

/// No visit of the programme was made before this year: an earlier time is a phone's clock
/// gone wrong (or a correction of one), never a time to order visits by.
pub const EARLIEST_YEAR: i32 = 2020;

/// The longest texts, in characters. What a visit carries reaches every phone of its village
/// at its next pull, so no text may be a megabyte.
const NAME_CHARS: usize = 120;
const ADDRESS_CHARS: usize = 300;
const NOTE_CHARS: usize = 2_000;

/// TXT-01 for every free text of the visit longer than its field allows.
fn check_texts(visit: &Visit, issues: &mut Vec<Issue>) {
    let mut check = |text: Option<&str>, limit: usize, field: &dyn Fn() -> String| {
        // A byte count above the limit is needed for a char count above it, and cheaper.
        if text.is_some_and(|t| t.len() > limit && t.chars().count() > limit) {
            issues.push(Issue::new(&rules::TXT_01, field()));
        }
    };
    check(visit.respondent_name.as_deref(), NAME_CHARS, &|| {
        "respondent_name".into()
    });
    check(visit.moved_to.as_deref(), ADDRESS_CHARS, &|| {
        "moved_to".into()
    });
    check(visit.notes.as_deref(), NOTE_CHARS, &|| "notes".into());
    if let Some(p) = &visit.proposal {
        check(Some(&p.head_name), NAME_CHARS, &|| {
            "proposal.head_name".into()
        });
        check(Some(&p.address), ADDRESS_CHARS, &|| {
            "proposal.address".into()
        });
    }
    for (key, reason) in &visit.warning_reasons {
        check(Some(key), NAME_CHARS, &|| "warning_reasons".into());
        check(Some(reason), NOTE_CHARS, &|| "warning_reasons".into());
    }
    for change in &visit.member_changes {
        let (id, details) = match change {
            MemberChange::Add { member } => (member.member_id, &member.details),
            MemberChange::Update { member_id, details } => (*member_id, details),
            _ => continue,
        };
        check(details.name.as_deref(), NAME_CHARS, &|| {
            format!("members.{id}.name")
        });
        check(details.birth_place.as_deref(), NAME_CHARS, &|| {
            format!("members.{id}.birth_place")
        });
        if let MemberChange::Add { member } = change {
            check(member.source_member_id.as_deref(), NAME_CHARS, &|| {
                format!("members.{id}.source_member_id")
            });
        }
    }
}

fn check_times(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let limit = Timestamp(ctx.now.0 + CLOCK_TOLERANCE);
    let campaign_start = ctx.campaign_start;
    let bad = |t: &Timestamp| {
        t > &limit
            || t.0.year() < EARLIEST_YEAR
            || campaign_start.is_some_and(|start| t.0.date() < start)
    };
    if bad(&visit.started_at) {
        issues.push(Issue::new(&rules::VIS_05_TIME, "started_at"));
    }
    if let Some(finished) = &visit.finished_at {
        if bad(finished) {
            issues.push(Issue::new(&rules::VIS_05_TIME, "finished_at"));
        } else if finished < &visit.started_at {
            issues.push(Issue::new(&rules::VIS_12, "finished_at"));
        } else if finished.0 - visit.started_at.0 < SHORT_INTERVIEW
            && visit.outcome == Some(Outcome::Found)
        {
            issues.push(Issue::new(&rules::VIS_05_SHORT, "finished_at"));
        }
    }
}

/// The RW and RT where the household was found: numbers 1–999 when given, and asked for (a
/// warning) when a found household's RT is not known yet, as for every P3KE family at first.
fn check_place_found(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let rw = visit.rw.as_ref().and_then(Entered::problem);
    let rt = visit.rt.as_ref().and_then(Entered::problem);
    for (field, problem) in [("rw", rw), ("rt", rt)] {
        if let Some(rule) = problem {
            issues.push(Issue::new(rule, field));
        }
    }
    let rt_unknown = ctx.household.is_some_and(|h| h.rt.is_none());
    if rt_unknown && visit.rt.is_none() && visit.outcome == Some(Outcome::Found) {
        issues.push(Issue::new(&rules::VIS_13, "rt"));
    }
}

/// A visit names a listed household, or proposes a new one (with the id the phone made for it).
fn check_household_target(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let Some(p) = &visit.proposal else {
        if visit.household_id.is_none() {
            issues.push(Issue::new(&rules::VIS_09, "proposal"));
        }
        return;
    };
    if visit.household_id.is_none() {
        issues.push(Issue::new(&rules::VIS_09, "household_id"));
    }
    if let Some(regions) = ctx.regions
        && !regions.contains(&p.region)
    {
        issues.push(Issue::new(&rules::REG_01, "proposal.region"));
    }
    let rw = p.rw.as_ref().map(Entered::problem);
    let rt = p.rt.as_ref().map(Entered::problem);
    for (field, problem) in [("proposal.rw", rw), ("proposal.rt", rt)] {
        match problem {
            None => issues.push(Issue::new(&rules::VIS_09, field)),
            Some(Some(rule)) => issues.push(Issue::new(rule, field)),
            Some(None) => {}
        }
    }
    if p.address.trim().is_empty() {
        issues.push(Issue::new(&rules::VIS_09, "proposal.address"));
    }
    if p.head_name.trim().is_empty() {
        issues.push(Issue::new(&rules::VIS_09, "proposal.head_name"));
    }
}

fn check_outcome(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let Some(outcome) = visit.outcome else {
        issues.push(Issue::new(&rules::VIS_11, "outcome"));
        return;
    };
    match outcome {
        Outcome::Found => {
            let h = &visit.housing;
            let required = [
                ("housing.floor_area_m2", h.floor_area_m2.is_none()),
                ("housing.floor", h.floor.is_none()),
                ("housing.wall", h.wall.is_none()),
                ("housing.roof", h.roof.is_none()),
                ("housing.lighting", h.lighting.is_none()),
                ("housing.cooking_fuel", h.cooking_fuel.is_none()),
                ("housing.drinking_water", h.drinking_water.is_none()),
                ("housing.sanitation", h.sanitation.is_none()),
                ("members", !visit.members_reviewed),
                ("location", visit.location.is_none()),
            ];
            for (field, missing) in required {
                if missing {
                    issues.push(Issue::new(&rules::VIS_01, field));
                }
            }
        }
        Outcome::MovedWithinVillage | Outcome::MovedAway
            if visit
                .moved_to
                .as_deref()
                .is_none_or(|s| s.trim().is_empty()) =>
        {
            issues.push(Issue::new(&rules::VIS_02_DESTINATION, "moved_to"));
        }
        Outcome::DuplicateOf | Outcome::PartOfOtherFamily
            if visit.other_household_id.is_none()
                || visit.other_household_id == visit.household_id =>
        {
            issues.push(Issue::new(
                &rules::VIS_02_OTHER_FAMILY,
                "other_household_id",
            ));
        }
        Outcome::NobodyHome if ctx.earlier_nobody_home >= 2 => {
            issues.push(Issue::new(&rules::VIS_07, "outcome"));
        }
        _ => {}
    }
}

fn check_refusal(visit: &Visit, issues: &mut Vec<Issue>) {
    let recorded = [
        ("housing", !visit.housing.is_empty()),
        ("welfare", !visit.welfare.is_empty()),
        ("member_changes", !visit.member_changes.is_empty()),
        ("kk_number", visit.kk_number.is_some()),
        ("assessment", visit.assessment.is_some()),
    ];
    for (field, present) in recorded {
        if present {
            issues.push(Issue::new(&rules::VIS_06, field));
        }
    }
}

fn check_location(visit: &Visit, issues: &mut Vec<Issue>) {
    let Some(loc) = &visit.location else { return };
    let plausible = loc.lat.is_finite()
        && loc.lon.is_finite()
        && loc.accuracy_m.is_finite()
        && (-90.0..=90.0).contains(&loc.lat)
        && (-180.0..=180.0).contains(&loc.lon)
        && loc.accuracy_m >= 0.0;
    if !plausible {
        issues.push(Issue::new(&rules::VIS_10, "location"));
    } else if loc.accuracy_m > MAX_GPS_ACCURACY_M {
        issues.push(Issue::new(&rules::VIS_03, "location"));
    }
}

fn check_photos(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let needs_front = matches!(
        visit.recommendation,
        Some(Recommendation::Remove | Recommendation::ProposeNew)
    );
    if needs_front && !visit.photos.iter().any(|p| p.kind == PhotoKind::HouseFront) {
        issues.push(Issue::new(&rules::VIS_04, "photos"));
    }
    if let Some(has) = ctx.has_attachment {
        for photo in &visit.photos {
            if !has(&photo.sha256) {
                issues.push(Issue::new(
                    &rules::VIS_08,
                    format!("photos.{}", photo.sha256),
                ));
            }
        }
    }
}

fn check_housing(h: &Housing, people: usize, issues: &mut Vec<Issue>) {
    if let Some(area) = h.floor_area_m2 {
        if !(1.0..=1000.0).contains(&area) {
            issues.push(Issue::new(&rules::HSE_01_AREA, "housing.floor_area_m2"));
        } else if people > 0 && area / (people as f64) < MIN_FLOOR_PER_PERSON_M2 {
            issues.push(Issue::new(
                &rules::HSE_01_PER_CAPITA,
                "housing.floor_area_m2",
            ));
        }
    }
    if h.power_rating.is_some() && h.lighting.is_some_and(|l| l != Lighting::PlnMetered) {
        issues.push(Issue::new(&rules::HSE_02_POWER, "housing.power_rating"));
    }
    if h.land_title.is_some() && h.tenure.is_some_and(|t| t != Tenure::Owned) {
        issues.push(Issue::new(&rules::HSE_02_LAND_TITLE, "housing.land_title"));
    }
}

fn check_welfare(w: &Welfare, issues: &mut Vec<Issue>) {
    let implausible = [
        (
            "welfare.meals_per_day",
            w.meals_per_day.is_some_and(|n| n > 10),
        ),
        (
            "welfare.meat_milk_per_week",
            w.meat_milk_per_week.is_some_and(|n| n > 50),
        ),
        (
            "welfare.new_clothes_per_year",
            w.new_clothes_per_year.is_some_and(|n| n > 100),
        ),
    ];
    for (field, bad) in implausible {
        if bad {
            issues.push(Issue::new(&rules::VIS_10, field));
        }
    }
}

fn check_kk(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let Some(entered) = &visit.kk_number else {
        return;
    };
    let Some(kk) = entered.valid() else {
        if let Some(rule) = entered.problem() {
            issues.push(Issue::new(rule, "kk_number"));
        }
        return;
    };
    if kk.recording_date(ctx.today()).is_none() {
        issues.push(Issue::new(&rules::KK_02, "kk_number"));
    }
    let equals_a_nik = members_after(visit, ctx).iter().any(|m| {
        m.details
            .nik
            .as_ref()
            .is_some_and(|n| n.as_str() == kk.as_str())
    });
    if equals_a_nik {
        issues.push(Issue::new(&rules::KK_03, "kk_number"));
    }
    let previous = ctx
        .household
        .and_then(|h| h.kk_number.as_ref())
        .and_then(Entered::valid);
    if previous.is_some_and(|p| p != kk) && visit.kk_change_reason.is_none() {
        issues.push(Issue::new(&rules::KK_04, "kk_number"));
    }
}

fn check_members(visit: &Visit, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let mut known: Vec<MemberId> = ctx
        .household
        .map(|h| h.members.iter().map(|m| m.member_id).collect())
        .unwrap_or_default();
    for change in &visit.member_changes {
        let id = change.member_id();
        if let MemberChange::MarkDeceased { date: None, .. } = change {
            issues.push(Issue::new(
                &rules::MEM_05,
                format!("members.{id}.presence_date"),
            ));
        }
        match change {
            MemberChange::Add { .. } => known.push(id),
            _ if !known.contains(&id) => {
                issues.push(Issue::new(&rules::MEM_07, format!("members.{id}")));
                // What the change itself carries is still checked: a malformed NIK is one
                // whether or not the household holds the member yet.
                if let MemberChange::Update { details, .. } = change {
                    let named = Member {
                        member_id: id,
                        source_member_id: None,
                        details: details.clone(),
                        presence: Presence::Present,
                        presence_date: None,
                    };
                    check_entered_values(&named, ctx.today(), issues);
                }
            }
            _ => {}
        }
    }

    // Member-level checks apply to the members this visit added or changed: a baseline member the
    // enumerator did not touch cannot block the visit.
    let mut all = ctx.household.map(|h| h.members.clone()).unwrap_or_default();
    apply_member_changes(&mut all, &visit.member_changes);
    let touched = |m: &Member| {
        visit.member_changes.iter().any(|c| {
            c.member_id() == m.member_id
                && matches!(c, MemberChange::Add { .. } | MemberChange::Update { .. })
        })
    };
    for member in all.iter().filter(|m| touched(m)) {
        check_member(member, ctx, issues);
    }

    let active: Vec<&Member> = all.iter().filter(|m| m.is_active()).collect();
    check_duplicate_niks(&active, issues);
    if visit.outcome == Some(Outcome::Found) {
        if active.is_empty() {
            issues.push(Issue::new(&rules::HH_04, "members"));
        } else {
            check_family_shape(&active, ctx.today(), issues);
        }
    }
}

/// The checks of one member's own data.
fn check_member(member: &Member, ctx: &Context<'_>, issues: &mut Vec<Issue>) {
    let id = member.member_id;
    let d = &member.details;
    let today = ctx.today();
    if member.name().trim().is_empty() {
        issues.push(Issue::new(&rules::MEM_06, format!("members.{id}.name")));
    }
    if member.presence == Presence::Deceased && member.presence_date.is_none() {
        issues.push(Issue::new(
            &rules::MEM_05,
            format!("members.{id}.presence_date"),
        ));
    }
    check_entered_values(member, today, issues);
    if member.age_on(today).is_some_and(|a| a < MARRIAGE_AGE)
        && d.marital_status == Some(MaritalStatus::Married)
    {
        issues.push(Issue::new(
            &rules::MEM_04,
            format!("members.{id}.marital_status"),
        ));
    }
    if d.relation == Some(Relation::Spouse) && d.marital_status == Some(MaritalStatus::NeverMarried)
    {
        issues.push(Issue::new(
            &rules::MEM_03,
            format!("members.{id}.marital_status"),
        ));
    }

    let field = format!("members.{id}.nik");
    let blank = d.nik.as_ref().is_none_or(|n| n.as_str().trim().is_empty());
    if blank {
        if d.nik_missing_reason.is_none() {
            issues.push(Issue::new(&rules::NIK_10, field));
        }
        return;
    }
    let Some(nik) = d.nik.as_ref().and_then(Entered::valid) else {
        return; // its problem is reported by `check_entered_values`
    };
    if d.sex.is_some_and(|s| s != nik.sex()) {
        issues.push(Issue::new(&rules::NIK_05, format!("members.{id}.sex")));
    }
    if let Some(born) = d.birth_date
        && nik.birth_date(today).is_some_and(|encoded| encoded != born)
    {
        issues.push(Issue::new(
            &rules::NIK_06,
            format!("members.{id}.birth_date"),
        ));
    }
    if let Some(regions) = ctx.regions
        && let Ok(district) = RegionCode::parse(nik.region_prefix())
        && !regions.contains(&district)
    {
        issues.push(Issue::new(&rules::NIK_07, field.clone()));
    }
    if let Some(niks) = ctx.niks {
        let this = ctx.household.map(|h| h.household_id);
        if let Some(other) = niks.household_with_nik(nik, this) {
            issues.push(Issue::naming(&rules::NIK_09, field, &other.to_string()));
        }
    }
}

/// The checks of values as entered, which hold whatever else is known of the member: an
/// impossible birth date, a NIK that is not one.
fn check_entered_values(member: &Member, today: Date, issues: &mut Vec<Issue>) {
    let id = member.member_id;
    if let Some(born) = member.details.birth_date
        && (born > today || member.age_on(today).is_some_and(|a| a > MAX_AGE))
    {
        issues.push(Issue::new(
            &rules::MEM_01,
            format!("members.{id}.birth_date"),
        ));
    }
    if let Some(entered) = &member.details.nik
        && !entered.as_str().trim().is_empty()
        && let Some(rule) = entered.problem()
    {
        issues.push(Issue::new(rule, format!("members.{id}.nik")));
    }
}

fn check_duplicate_niks(active: &[&Member], issues: &mut Vec<Issue>) {
    for (i, m) in active.iter().enumerate() {
        let Some(nik) = m.nik() else {
            continue;
        };
        let earlier = active[..i].iter().any(|o| o.nik() == Some(nik));
        if earlier {
            issues.push(Issue::new(
                &rules::NIK_08,
                format!("members.{}.nik", m.member_id),
            ));
        }
    }
}

/// The family's shape: one head, an adult, at most one spouse, children younger than the head.
fn check_family_shape(active: &[&Member], today: Date, issues: &mut Vec<Issue>) {
    let with = |r: Relation| active.iter().filter(move |m| m.details.relation == Some(r));
    let heads: Vec<&&Member> = with(Relation::Head).collect();
    if heads.len() != 1 {
        issues.push(Issue::new(&rules::HH_01, "members"));
    }
    let ages_known = active.iter().all(|m| m.details.birth_date.is_some());
    if ages_known
        && !active
            .iter()
            .any(|m| m.age_on(today).is_some_and(|a| a >= ADULT_AGE))
    {
        issues.push(Issue::new(&rules::HH_02, "members"));
    }
    if with(Relation::Spouse).count() > 1 {
        issues.push(Issue::new(&rules::HH_03, "members"));
    }
    if let [head] = heads.as_slice()
        && let Some(head_born) = head.details.birth_date
    {
        for child in with(Relation::Child) {
            if child.details.birth_date.is_some_and(|b| b < head_born) {
                issues.push(Issue::new(
                    &rules::MEM_02,
                    format!("members.{}.birth_date", child.member_id),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
