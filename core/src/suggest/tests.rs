use uuid::Uuid;

use super::*;
use crate::sample;

#[test]
fn counts_the_criteria_met_and_leaves_unknowns_unknown() {
    let h = sample::household(2, &sample::village(), 1, 1);
    let v = sample::found_visit(
        &h,
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        Timestamp::now_utc(),
        4,
    );
    let s = suggest(
        &v.housing,
        &v.welfare,
        &h.members,
        &SuggestionConfig::default(),
    );
    // The sample: bamboo wall, shared toilet, firewood, two meals, one set of clothes, farmer
    // head with primary school, no savings, a TV only.
    for c in [
        BpsCriterion::Wall,
        BpsCriterion::Toilet,
        BpsCriterion::CookingFuel,
        BpsCriterion::Meals,
        BpsCriterion::Clothing,
        BpsCriterion::Income,
        BpsCriterion::Education,
        BpsCriterion::Savings,
    ] {
        assert!(s.criteria_met.contains(&c), "{c:?}");
    }
    for c in [BpsCriterion::Lighting, BpsCriterion::Water] {
        assert!(!s.criteria_met.contains(&c), "{c:?}");
    }
    assert!(s.criteria_unknown.is_empty());
    assert_eq!(s.household_size, 4);

    let empty = suggest(
        &Housing::default(),
        &Welfare::default(),
        &[],
        &SuggestionConfig::default(),
    );
    assert!(empty.criteria_met.is_empty());
    assert_eq!(empty.criteria_unknown.len(), 14);
    assert_eq!(empty.below_extreme_line, None);
    assert!(!empty.poor_by_checklist);
}

#[test]
fn compares_per_capita_expenditure_with_the_configured_line() {
    let h = sample::household(2, &sample::village(), 1, 1);
    let welfare = Welfare {
        monthly_expenditure_rp: Some(1_500_000),
        ..Welfare::default()
    };
    let s = suggest(
        &Housing::default(),
        &welfare,
        &h.members,
        &SuggestionConfig::default(),
    );
    assert_eq!(s.per_capita_monthly_rp, Some(375_000));
    assert_eq!(s.per_capita_daily_rp, Some(12_500));
    assert_eq!(s.below_extreme_line, Some(true));
    let strict = SuggestionConfig {
        extreme_poverty_line_rp: 350_000,
    };
    assert_eq!(
        suggest(&Housing::default(), &welfare, &h.members, &strict).below_extreme_line,
        Some(false)
    );
}

#[test]
fn only_active_members_count() {
    let mut h = sample::household(2, &sample::village(), 1, 1);
    h.members[3].presence = Presence::Deceased;
    let welfare = Welfare {
        monthly_expenditure_rp: Some(900_000),
        ..Welfare::default()
    };
    let s = suggest(
        &Housing::default(),
        &welfare,
        &h.members,
        &SuggestionConfig::default(),
    );
    assert_eq!(s.household_size, 3);
    assert_eq!(s.per_capita_monthly_rp, Some(300_000));
}
