use proptest::prelude::*;
use time::Duration;
use uuid::Uuid;

use super::*;
use crate::canonical::visit_content_hash;
use crate::sample;

fn household() -> Household {
    sample::household(5, &sample::village(), 1, 1)
}

fn base_time() -> Timestamp {
    Timestamp::parse("2026-11-20T08:00:00+07:00").unwrap()
}

fn accepted(visit: Visit) -> AcceptedVisit {
    AcceptedVisit {
        content_hash: visit_content_hash(&visit).unwrap(),
        order_time: visit.finished_at.unwrap(),
        visit,
    }
}

/// A visit by enumerator `who` (each enumerator has one phone) at `minutes` past the base time.
fn visit(h: &Household, who: u128, minutes: i64, seq: u64) -> Visit {
    sample::found_visit(
        h,
        EnumeratorId(Uuid::from_u128(who)),
        DeviceId(Uuid::from_u128(100 + who)),
        Timestamp(base_time().0 + Duration::minutes(minutes)),
        seq,
    )
}

fn review(
    h: &Household,
    n: u128,
    decision: Decision,
    visit_id: Option<VisitId>,
    minutes: i64,
) -> Review {
    Review {
        review_id: ReviewId(Uuid::from_u128(1000 + n)),
        household_id: h.household_id,
        visit_id,
        decision,
        other_household_id: None,
        comment: Some("periksa lagi".into()),
        reviewer_id: UserId(Uuid::from_u128(9)),
        decided_at: Timestamp(base_time().0 + Duration::minutes(minutes)),
    }
}

/// Drops some observations and varies the verdicts, so that visits overlap only partly.
fn vary(mut v: Visit, mask: u16, verdict: u8) -> Visit {
    if mask & 1 != 0 {
        v.housing.floor = None;
    }
    if mask & 2 != 0 {
        v.housing.floor_area_m2 = None;
    }
    if mask & 4 != 0 {
        v.welfare.meals_per_day = None;
    }
    if mask & 8 != 0 {
        v.location = None;
    }
    if mask & 16 != 0 {
        v.assessment = None;
    }
    if mask & 32 != 0 {
        v.member_changes.push(MemberChange::MarkMoved {
            member_id: sample::household(5, &sample::village(), 1, 1).members[3].member_id,
            date: None,
        });
    }
    if mask & 64 != 0 {
        v.member_changes.push(MemberChange::Update {
            member_id: sample::household(5, &sample::village(), 1, 1).members[2].member_id,
            details: MemberDetails {
                education: Some(Education::InJuniorSecondary),
                ..MemberDetails::default()
            },
        });
    }
    v.outcome =
        Some([Outcome::Found, Outcome::NobodyHome, Outcome::MovedAway][usize::from(verdict % 3)]);
    v.recommendation =
        Some([Recommendation::Keep, Recommendation::Remove][usize::from(verdict / 3 % 2)]);
    v
}

fn arb_visits() -> impl Strategy<Value = Vec<AcceptedVisit>> {
    prop::collection::vec((1u128..=3, -600i64..600, any::<u16>(), any::<u8>()), 1..7).prop_map(
        |specs| {
            let h = household();
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (who, minutes, mask, verdict))| {
                    accepted(vary(visit(&h, who, minutes, i as u64), mask, verdict))
                })
                .collect()
        },
    )
}

proptest! {
    /// The canonical text is written straight from the types; the form was defined on their
    /// `serde_json::Value` (golden vectors), so the two must agree on every visit and state.
    #[test]
    fn canonical_text_from_the_types_is_that_of_their_json_value(visits in arb_visits()) {
        use crate::canonical::{hash_of, to_canonical_json};
        for v in &visits {
            let mut value = serde_json::to_value(&v.visit).unwrap();
            prop_assert_eq!(to_canonical_json(&v.visit).unwrap(), to_canonical_json(&value).unwrap());
            let ids = value.as_object_mut().unwrap();
            ids.remove("visit_id");
            ids.remove("device_id");
            prop_assert_eq!(visit_content_hash(&v.visit).unwrap(), hash_of(&value).unwrap());
        }
        let state = merge(&household(), &visits, &[]).unwrap().state;
        let value = serde_json::to_value(&state).unwrap();
        prop_assert_eq!(to_canonical_json(&state).unwrap(), to_canonical_json(&value).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn merge_is_independent_of_arrival_order(
        (visits, shuffled) in arb_visits().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        returned in any::<prop::sample::Index>(),
    ) {
        let h = household();
        let reviews = vec![review(&h, 1, Decision::Return, Some(visits[returned.index(visits.len())].visit.visit_id), 700)];
        let a = merge(&h, &visits, &reviews).unwrap();
        let b = merge(&h, &shuffled, &reviews).unwrap();
        prop_assert_eq!(&a.state_hash, &b.state_hash);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn the_offset_a_time_is_written_in_does_not_change_the_state(
        visits in arb_visits(),
        offset_hours in -12i8..=14,
    ) {
        // The same instants, as a phone in another zone writes them, and as a database reads
        // them back (UTC, whole milliseconds).
        let h = household();
        let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap();
        let shifted: Vec<AcceptedVisit> = visits
            .iter()
            .map(|v| AcceptedVisit { order_time: Timestamp(v.order_time.0.to_offset(offset)), ..v.clone() })
            .collect();
        let stored: Vec<AcceptedVisit> = visits
            .iter()
            .map(|v| AcceptedVisit { order_time: Timestamp::from_unix_millis(v.order_time.unix_millis()), ..v.clone() })
            .collect();
        let a = merge(&h, &visits, &[]).unwrap();
        prop_assert_eq!(&a.state_hash, &merge(&h, &shifted, &[]).unwrap().state_hash);
        prop_assert_eq!(&a.state_hash, &merge(&h, &stored, &[]).unwrap().state_hash);
    }

    #[test]
    fn a_duplicate_visit_changes_nothing(visits in arb_visits(), which in any::<prop::sample::Index>(), fresh_id in any::<bool>()) {
        let h = household();
        let once = merge(&h, &visits, &[]).unwrap();
        let mut again = visits.clone();
        let mut copy = visits[which.index(visits.len())].clone();
        if fresh_id {
            // Same content under a new id: stored for audit, never counted twice.
            copy.visit.visit_id = VisitId(Uuid::from_u128(u128::MAX));
        }
        again.push(copy);
        let twice = merge(&h, &again, &[]).unwrap();
        prop_assert_eq!(&once.state.household, &twice.state.household);
        prop_assert_eq!(&once.state.housing, &twice.state.housing);
        prop_assert_eq!(&once.state.visits_used, &twice.state.visits_used);
        prop_assert_eq!(&once.state.conflicts, &twice.state.conflicts);
        if !fresh_id {
            prop_assert_eq!(&once.state_hash, &twice.state_hash);
        }
    }

    #[test]
    fn a_returned_visit_has_no_effect(visits in arb_visits(), which in any::<prop::sample::Index>()) {
        let h = household();
        let returned = visits[which.index(visits.len())].visit.visit_id;
        let without: Vec<AcceptedVisit> = visits.iter().filter(|v| v.visit.visit_id != returned).cloned().collect();
        let reviews = [review(&h, 1, Decision::Return, Some(returned), 900)];
        let with_return = merge(&h, &visits, &reviews).unwrap();
        let never_sent = merge(&h, &without, &[]).unwrap();
        prop_assert_eq!(&with_return.state.household, &never_sent.state.household);
        prop_assert_eq!(&with_return.state.housing, &never_sent.state.housing);
        prop_assert_eq!(&with_return.state.welfare, &never_sent.state.welfare);
        prop_assert_eq!(with_return.state.outcome, never_sent.state.outcome);
        prop_assert_eq!(&with_return.state.visits_used, &never_sent.state.visits_used);
        prop_assert!(!with_return.state.visits_used.contains(&returned));
    }

    #[test]
    fn an_absent_field_never_erases_a_value(visits in arb_visits(), minutes in 700i64..800) {
        let h = household();
        let before = merge(&h, &visits, &[]).unwrap();
        // A later visit that observed only the outcome.
        let mut sparse = Visit::draft(Some(h.household_id), EnumeratorId(Uuid::from_u128(1)), DeviceId(Uuid::from_u128(101)), base_time());
        sparse.finished_at = Some(Timestamp(base_time().0 + Duration::minutes(minutes)));
        sparse.outcome = Some(Outcome::Found);
        let mut all = visits.clone();
        all.push(accepted(sparse));
        let after = merge(&h, &all, &[]).unwrap();
        prop_assert_eq!(&before.state.housing, &after.state.housing);
        prop_assert_eq!(&before.state.welfare, &after.state.welfare);
        prop_assert_eq!(&before.state.household.members, &after.state.household.members);
        prop_assert_eq!(&before.state.location, &after.state.location);
    }

    #[test]
    fn a_superseding_visit_replaces_the_one_it_corrects(visits in arb_visits(), which in any::<prop::sample::Index>(), area in 10u32..500) {
        let h = household();
        let original = &visits[which.index(visits.len())];
        let mut correction = original.visit.clone();
        correction.visit_id = VisitId(Uuid::from_u128(u128::MAX - 1));
        correction.supersedes = Some(original.visit.visit_id);
        correction.housing.floor_area_m2 = Some(f64::from(area) + 0.5);
        correction.finished_at = Some(Timestamp(base_time().0 + Duration::days(1)));
        let mut all = visits.clone();
        all.push(accepted(correction.clone()));
        let corrected = merge(&h, &all, &[]).unwrap();
        // Same as if the corrected content had been the original all along.
        let mut replaced: Vec<AcceptedVisit> = visits.iter().filter(|v| v.visit.visit_id != original.visit.visit_id).cloned().collect();
        let mut in_place = correction.clone();
        in_place.finished_at = original.visit.finished_at;
        replaced.push(AcceptedVisit { order_time: original.order_time, ..accepted(in_place) });
        let expected = merge(&h, &replaced, &[]).unwrap();
        prop_assert!(!corrected.state.visits_used.contains(&original.visit.visit_id));
        prop_assert_eq!(&corrected.state.housing, &expected.state.housing);
        prop_assert_eq!(&corrected.state.household, &expected.state.household);
        prop_assert_eq!(&corrected.state.visits_used, &expected.state.visits_used);
    }
}

#[test]
fn the_latest_observation_wins_field_by_field() {
    let h = household();
    let mut early = visit(&h, 1, 0, 1);
    early.housing.floor = Some(FloorMaterial::Earth);
    early.welfare.meals_per_day = Some(1);
    let mut late = visit(&h, 1, 60, 2);
    late.housing.floor = Some(FloorMaterial::Cement);
    late.welfare.meals_per_day = None;
    let merged = merge(&h, &[accepted(late.clone()), accepted(early.clone())], &[]).unwrap();
    assert_eq!(merged.state.housing.floor, Some(FloorMaterial::Cement));
    assert_eq!(merged.state.welfare.meals_per_day, Some(1));
    assert_eq!(
        merged.state.visits_used,
        vec![early.visit_id, late.visit_id]
    );
    assert_eq!(merged.state.status, VerificationStatus::Visited);
}

#[test]
fn a_dated_tombstone_is_not_undone_by_a_later_update_of_another_field() {
    let h = household();
    let member = h.members[1].member_id;
    let mut died = visit(&h, 1, 0, 1);
    died.member_changes = vec![MemberChange::MarkDeceased {
        member_id: member,
        date: Some(time::macros::date!(2026 - 10 - 01)),
    }];
    let mut rename = visit(&h, 2, 30, 2);
    rename.member_changes = vec![MemberChange::Update {
        member_id: member,
        details: MemberDetails {
            name: Some("Sri Wahyuni".into()),
            ..MemberDetails::default()
        },
    }];
    let merged = merge(&h, &[accepted(rename), accepted(died)], &[]).unwrap();
    let m = merged
        .state
        .household
        .members
        .iter()
        .find(|m| m.member_id == member)
        .unwrap();
    assert_eq!(m.presence, Presence::Deceased);
    assert_eq!(m.name(), "Sri Wahyuni");
}

#[test]
fn disagreeing_enumerators_need_review_until_resolved() {
    let h = household();
    let mut a = visit(&h, 1, 0, 1);
    a.assessment = Some(Assessment::ExtremePoor);
    let mut b = visit(&h, 2, 30, 2);
    b.assessment = Some(Assessment::NotPoor);
    let visits = [accepted(a.clone()), accepted(b.clone())];
    let merged = merge(&h, &visits, &[]).unwrap();
    assert_eq!(merged.state.status, VerificationStatus::NeedsReview);
    assert_eq!(
        merged.state.conflicts,
        vec![Conflict {
            field: ConflictField::Assessment,
            visits: {
                let mut v = vec![a.visit_id, b.visit_id];
                v.sort();
                v
            }
        }]
    );
    assert_eq!(
        merged.state.assessment,
        Some(Assessment::NotPoor),
        "deterministic while unresolved"
    );

    let resolve = review(&h, 1, Decision::ResolveConflict, Some(a.visit_id), 60);
    let resolved = merge(&h, &visits, std::slice::from_ref(&resolve)).unwrap();
    assert!(resolved.state.conflicts.is_empty());
    assert_eq!(
        resolved.state.assessment,
        Some(Assessment::ExtremePoor),
        "the chosen visit's verdict"
    );
    assert_eq!(resolved.state.status, VerificationStatus::Visited);

    // A new disagreement after the resolution flags the household again.
    let mut c = visit(&h, 3, 90, 3);
    c.assessment = Some(Assessment::Vulnerable);
    let again = merge(
        &h,
        &[visits[0].clone(), visits[1].clone(), accepted(c)],
        &[resolve],
    )
    .unwrap();
    assert_eq!(again.state.status, VerificationStatus::NeedsReview);
}

#[test]
fn a_disagreement_counts_within_the_campaign_of_the_latest_visit() {
    let h = household();
    let at = |minutes: i64| Timestamp(base_time().0 + Duration::minutes(minutes));
    // Two rounds: the first holds minutes 0–99, the second 1000–1999.
    let rounds = [(at(0), at(100)), (at(1000), at(2000))];
    let mut a = visit(&h, 1, 10, 1);
    a.assessment = Some(Assessment::ExtremePoor);
    let mut b = visit(&h, 2, 20, 2);
    b.assessment = Some(Assessment::NotPoor);
    let first = [accepted(a), accepted(b)];
    let merged = |visits: &[AcceptedVisit], rounds: &[Round]| {
        merge_rounds_with_text(&h, &[], visits, &[], rounds)
            .unwrap()
            .0
            .state
    };
    assert_eq!(
        merged(&first, &rounds).status,
        VerificationStatus::NeedsReview
    );

    // The next round's visit agrees with neither: the first round's disagreement is history.
    let mut c = visit(&h, 1, 1500, 3);
    c.assessment = Some(Assessment::Poor);
    let both = [first[0].clone(), first[1].clone(), accepted(c)];
    let state = merged(&both, &rounds);
    assert!(state.conflicts.is_empty(), "{:?}", state.conflicts);
    assert_eq!(state.assessment, Some(Assessment::Poor));
    // Without campaigns, the three are one round, as before.
    assert_eq!(merged(&both, &[]).status, VerificationStatus::NeedsReview);

    // Two enumerators who disagree within the second round make a conflict again.
    let mut d = visit(&h, 2, 1600, 4);
    d.assessment = Some(Assessment::Vulnerable);
    let all = [
        both[0].clone(),
        both[1].clone(),
        both[2].clone(),
        accepted(d),
    ];
    assert_eq!(
        merged(&all, &rounds).status,
        VerificationStatus::NeedsReview
    );
}

#[test]
fn nobody_home_does_not_conflict_with_a_later_find() {
    let h = household();
    let mut a = Visit::draft(
        Some(h.household_id),
        EnumeratorId(Uuid::from_u128(1)),
        DeviceId(Uuid::from_u128(101)),
        base_time(),
    );
    a.outcome = Some(Outcome::NobodyHome);
    a.finished_at = Some(base_time());
    let b = visit(&h, 2, 60, 2);
    let merged = merge(&h, &[accepted(a), accepted(b)], &[]).unwrap();
    assert!(merged.state.conflicts.is_empty());
    assert_eq!(merged.state.outcome, Some(Outcome::Found));
}

#[test]
fn reviews_approve_request_revisits_and_merge_households() {
    let h = household();
    let v = visit(&h, 1, 0, 1);
    let visits = [accepted(v.clone())];
    let approved = merge(
        &h,
        &visits,
        &[review(&h, 1, Decision::Approve, Some(v.visit_id), 10)],
    )
    .unwrap();
    assert_eq!(approved.state.status, VerificationStatus::Approved);
    assert_eq!(approved.state.approved_visits, vec![v.visit_id]);

    let revisit = merge(
        &h,
        &visits,
        &[review(&h, 2, Decision::RequestRevisit, None, 10)],
    )
    .unwrap();
    assert_eq!(revisit.state.status, VerificationStatus::RevisitRequested);
    let later = visit(&h, 1, 20, 2);
    let revisited = merge(
        &h,
        &[visits[0].clone(), accepted(later)],
        &[review(&h, 2, Decision::RequestRevisit, None, 10)],
    )
    .unwrap();
    assert_eq!(revisited.state.status, VerificationStatus::Visited);

    let other = HouseholdId(Uuid::from_u128(42));
    let mut merge_review = review(&h, 3, Decision::MergeHouseholds, None, 10);
    merge_review.other_household_id = Some(other);
    let merged = merge(&h, &visits, &[merge_review]).unwrap();
    assert_eq!(merged.state.merged_into, Some(other));
    assert_eq!(
        merged.state.household.target_status,
        TargetStatus::MergedInto
    );
}

#[test]
fn visits_and_reviews_of_other_households_are_ignored() {
    let h = household();
    let other = sample::household(6, &sample::village(), 1, 1);
    let mine = merge(&h, &[accepted(visit(&h, 1, 0, 1))], &[]).unwrap();
    let mixed = merge(
        &h,
        &[
            accepted(visit(&h, 1, 0, 1)),
            accepted(visit(&other, 2, 5, 2)),
        ],
        &[review(&other, 1, Decision::RequestRevisit, None, 9)],
    )
    .unwrap();
    assert_eq!(mine, mixed);
}

#[test]
fn an_unvisited_household_is_its_baseline() {
    let h = household();
    let merged = merge(&h, &[], &[]).unwrap();
    assert_eq!(merged.state.household, h);
    assert_eq!(merged.state.status, VerificationStatus::NotVisited);
}

#[test]
fn the_canonical_text_reads_back_as_the_same_state() {
    let h = household();
    let visits = [accepted(visit(&h, 1, 0, 1)), accepted(visit(&h, 2, 30, 2))];
    let (merged, text) = merge_with_text(&h, &visits, &[]).unwrap();
    let back: HouseholdState = serde_json::from_str(&text).unwrap();
    assert_eq!(back, merged.state);
    assert_eq!(Sha256::of(text.as_bytes()), merged.state_hash);
}

/// A survivor and a household merged into it, each visited by its own enumerator.
fn merged_pair() -> (Household, Household, Vec<AcceptedVisit>) {
    let survivor = household();
    let mut absorbed = sample::household(6, &sample::village(), 1, 1);
    // One person listed in both families: kept once, as the survivor has them.
    absorbed.members[1] = survivor.members[1].clone();
    absorbed.members[1].member_id = MemberId(Uuid::from_u128(77));
    let mut duplicate_says = visit(&absorbed, 2, 30, 2);
    duplicate_says.outcome = Some(Outcome::DuplicateOf);
    duplicate_says.other_household_id = Some(survivor.household_id);
    duplicate_says.assessment = None;
    duplicate_says.recommendation = None;
    let visits = vec![
        accepted(visit(&survivor, 1, 0, 1)),
        accepted(duplicate_says),
    ];
    (survivor, absorbed, visits)
}

#[test]
fn a_survivor_holds_the_members_and_visits_of_the_household_merged_into_it() {
    let (survivor, absorbed, visits) = merged_pair();
    let (alone, _) = merge_with_text(&survivor, &visits, &[]).unwrap();
    let (both, _) =
        merge_group_with_text(&survivor, std::slice::from_ref(&absorbed), &visits, &[]).unwrap();
    assert_eq!(alone.state.visits_used.len(), 1);
    assert_eq!(both.state.visits_used.len(), 2);
    // Four of its own, three of the other's (the shared spouse once).
    assert_eq!(alone.state.household.members.len(), 4);
    assert_eq!(both.state.household.members.len(), 7);
    assert!(
        both.state
            .household
            .members
            .iter()
            .any(|m| m.member_id == absorbed.members[0].member_id)
    );
    // "This is a duplicate of the other record" is no verdict on the survivor: no conflict.
    assert_eq!(both.state.outcome, Some(Outcome::Found));
    assert!(both.state.conflicts.is_empty());
    assert_eq!(both.state.household.household_id, survivor.household_id);
    assert_ne!(alone.state_hash, both.state_hash);

    // The same sets in another order give the same state.
    let reversed: Vec<AcceptedVisit> = visits.iter().rev().cloned().collect();
    let (again, _) = merge_group_with_text(
        &survivor,
        &[absorbed.clone(), absorbed.clone()],
        &reversed,
        &[],
    )
    .unwrap();
    assert_eq!(again.state_hash, both.state_hash);
}

#[test]
fn a_return_of_an_absorbed_visit_still_holds_and_its_other_decisions_do_not() {
    let (survivor, absorbed, visits) = merged_pair();
    let absorbed_visit = visits[1].visit.visit_id;
    let mut merge_review = review(&absorbed, 1, Decision::MergeHouseholds, None, 40);
    merge_review.other_household_id = Some(survivor.household_id);
    let reviews = [
        review(&absorbed, 2, Decision::Return, Some(absorbed_visit), 45),
        merge_review,
    ];
    let (m, _) = merge_group_with_text(
        &survivor,
        std::slice::from_ref(&absorbed),
        &visits,
        &reviews,
    )
    .unwrap();
    assert!(!m.state.visits_used.contains(&absorbed_visit));
    assert_eq!(m.state.merged_into, None);
    assert_eq!(m.state.household.target_status, TargetStatus::Active);
}

#[test]
fn an_approved_proposal_joins_the_target_list() {
    let mut h = household();
    h.target_status = TargetStatus::Proposed;
    let v = visit(&h, 1, 0, 1);
    let visits = [accepted(v.clone())];
    let waiting = merge(&h, &visits, &[]).unwrap();
    assert_eq!(
        waiting.state.household.target_status,
        TargetStatus::Proposed
    );
    let accepted_list = merge(
        &h,
        &visits,
        &[review(&h, 1, Decision::Approve, Some(v.visit_id), 10)],
    )
    .unwrap();
    assert_eq!(
        accepted_list.state.household.target_status,
        TargetStatus::Active
    );
    let rejected = merge(
        &h,
        &visits,
        &[review(&h, 1, Decision::Return, Some(v.visit_id), 10)],
    )
    .unwrap();
    assert_eq!(
        rejected.state.household.target_status,
        TargetStatus::Proposed
    );
}

#[test]
fn a_household_takes_the_rw_and_rt_of_the_latest_visit_that_recorded_them() {
    let mut h = household();
    (h.rw, h.rt) = (None, None);
    let mut first = visit(&h, 1, 0, 1);
    (first.rw, first.rt) = (
        Some(Entered::from_input("2")),
        Some(Entered::from_input("5")),
    );
    let mut later = visit(&h, 1, 30, 2);
    later.rt = Some(Entered::from_input("6"));
    let mut typo = visit(&h, 1, 60, 3);
    typo.rt = Some(Entered::from_input("enam"));
    let merged = merge(&h, &[accepted(first), accepted(later), accepted(typo)], &[]).unwrap();
    let place = &merged.state.household;
    assert_eq!(place.rw.as_ref().map(Code::as_str), Some("002"));
    assert_eq!(
        place.rt.as_ref().map(Code::as_str),
        Some("006"),
        "a typo changes nothing"
    );
    // A visit that recorded none leaves the list's place as it was.
    let listed = household();
    let merged = merge(&listed, &[accepted(visit(&listed, 1, 0, 1))], &[]).unwrap();
    assert_eq!(merged.state.household.rt, listed.rt);
}
