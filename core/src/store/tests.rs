use tempfile::TempDir;
use time::Duration;
use uuid::Uuid;

use super::*;
use crate::merge::merge;
use crate::model::*;
use crate::protocol::{Area, PullResponse, PushResult, PushStatus};
use crate::sample;
use crate::validate::Issue;

fn now() -> Timestamp {
    Timestamp::now_utc()
}

/// A store in a fresh directory, enrolled, holding households 0..n of RT 001/001.
fn enrolled_store(n: u64) -> (TempDir, Store) {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
    store
        .set_identity(
            DeviceId(Uuid::from_u128(7)),
            EnumeratorId(Uuid::from_u128(8)),
        )
        .unwrap();
    let states: Vec<_> = (0..n)
        .map(|i| merge(&sample::household(i, &sample::village(), 1, 1), &[], &[]).unwrap())
        .collect();
    store.save_households(&states, Some("c-1")).unwrap();
    (dir, store)
}

/// A complete visit to household `i`, as the form would fill it.
fn filled_draft(store: &Store, i: u64) -> Visit {
    let h = store
        .household(sample::household(i, &sample::village(), 1, 1).household_id)
        .unwrap()
        .unwrap();
    let draft = store
        .start_visit(
            Some(h.state.household.household_id),
            Timestamp(now().0 - Duration::minutes(20)),
        )
        .unwrap();
    let filled = sample::fill_draft(&draft, &h.state.household, now(), i);
    store.save_draft(&filled).unwrap();
    filled
}

#[test]
fn drafts_keep_what_was_typed_across_a_restart() {
    let (dir, store) = enrolled_store(1);
    let mut draft = store.start_visit(None, now()).unwrap();
    draft.kk_number = Some(Entered::from_input("16O4 0101"));
    draft.notes = Some("Rumah di belakang masjid".into());
    store.save_draft(&draft).unwrap();
    drop(store);

    let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
    assert_eq!(store.visit(draft.visit_id).unwrap().unwrap(), draft);
    assert_eq!(store.drafts().unwrap().len(), 1);
    assert_eq!(store.cursor().unwrap().as_deref(), Some("c-1"));
}

#[test]
fn member_changes_and_reasons_are_added_one_at_a_time_also_to_a_draft_resumed_later() {
    let (dir, store) = enrolled_store(1);
    let h = sample::household(0, &sample::village(), 1, 1);
    let draft = store.start_visit(Some(h.household_id), now()).unwrap();
    let moved = serde_json::json!({"op": "MARK_MOVED", "member_id": h.members[1].member_id});
    store
        .add_to_answer(draft.visit_id, "member_changes", moved)
        .unwrap();
    store
        .set_warning_reason(draft.visit_id, "VIS-03@location", "Hujan deras")
        .unwrap();
    drop(store);
    let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
    let born = serde_json::json!({"op": "ADD", "member": {
        "member_id": "0193a1f0-0000-7000-8000-00000000b0b1",
        "details": {"name": "Bayu", "relation": "CHILD"}, "presence": "PRESENT"}});
    store
        .add_to_answer(draft.visit_id, "member_changes", born)
        .unwrap();
    // Not a member change: refused, and the two stay as they were.
    let refused = store.add_to_answer(
        draft.visit_id,
        "member_changes",
        serde_json::json!({"op": "MARRY"}),
    );
    assert!(
        matches!(refused, Err(Error::BadAnswer { .. })),
        "{refused:?}"
    );
    store
        .set_warning_reason(
            draft.visit_id,
            "HSE-01@housing.floor_area_m2",
            "Rumah panggung",
        )
        .unwrap();
    let kept = store.visit(draft.visit_id).unwrap().unwrap();
    assert_eq!(
        kept.warning_reasons.keys().collect::<Vec<_>>(),
        ["HSE-01@housing.floor_area_m2", "VIS-03@location"]
    );
    let changes = kept.member_changes;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].member_id(), h.members[1].member_id);
    assert!(matches!(&changes[1], MemberChange::Add { member } if member.name() == "Bayu"));
}

#[test]
fn finishing_validates_and_changes_nothing_when_blocked() {
    let (_dir, store) = enrolled_store(1);
    let mut draft = filled_draft(&store, 0);
    draft.location = None;
    store.save_draft(&draft).unwrap();
    let Err(Error::Invalid { issues }) = store.finish_visit(draft.visit_id, now(), None) else {
        panic!("a FOUND visit without location must not finish");
    };
    assert!(
        issues
            .iter()
            .any(|i| i.code == "VIS-01" && i.field == "location")
    );
    assert_eq!(
        store.visit(draft.visit_id).unwrap().unwrap(),
        draft,
        "still the same draft"
    );
    assert_eq!(store.pending_count().unwrap(), 0);
}

#[test]
fn finishing_freezes_numbers_and_queues_in_one_step() {
    let (_dir, store) = enrolled_store(3);
    let mut seqs = Vec::new();
    for i in 0..3 {
        let draft = filled_draft(&store, i);
        let done = store.finish_visit(draft.visit_id, now(), None).unwrap();
        seqs.push(done.device_seq);
        assert!(matches!(store.save_draft(&draft), Err(Error::Frozen)));
        assert!(matches!(
            store.discard_draft(draft.visit_id),
            Err(Error::Frozen)
        ));
        let stored = store.visit(draft.visit_id).unwrap().unwrap();
        assert!(stored.finished_at.is_some());
        assert_eq!(
            crate::canonical::visit_content_hash(&stored).unwrap(),
            done.content_hash
        );
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    let outbox = store.pending_outbox(10).unwrap();
    assert_eq!(
        outbox.iter().map(|o| o.device_seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(store.drafts().unwrap().is_empty());
}

#[test]
fn the_database_itself_refuses_to_change_a_finished_visit() {
    let (_dir, store) = enrolled_store(1);
    let draft = filled_draft(&store, 0);
    store.finish_visit(draft.visit_id, now(), None).unwrap();
    let conn = store.lock().unwrap();
    let update = conn.execute(
        "UPDATE visits SET body = '{}' WHERE visit_id = ?1",
        [draft.visit_id.to_string()],
    );
    assert!(update.is_err());
    assert!(conn.execute("DELETE FROM visits", []).is_err());
}

#[test]
fn a_double_tapped_finish_answers_the_same() {
    let (_dir, store) = enrolled_store(1);
    let draft = filled_draft(&store, 0);
    let first = store.finish_visit(draft.visit_id, now(), None).unwrap();
    let again = store
        .finish_visit(
            draft.visit_id,
            Timestamp(now().0 + Duration::seconds(1)),
            None,
        )
        .unwrap();
    assert_eq!(
        (first.device_seq, &first.content_hash),
        (again.device_seq, &again.content_hash)
    );
    assert_eq!(store.pending_count().unwrap(), 1);
}

#[test]
fn a_correction_is_a_new_visit_that_supersedes() {
    let (_dir, store) = enrolled_store(1);
    let draft = filled_draft(&store, 0);
    store.finish_visit(draft.visit_id, now(), None).unwrap();
    let mut correction = store.start_correction(draft.visit_id).unwrap();
    assert_ne!(correction.visit_id, draft.visit_id);
    assert_eq!(correction.supersedes, Some(draft.visit_id));
    correction.housing.floor_area_m2 = Some(48.0);
    store.save_draft(&correction).unwrap();
    let done = store
        .finish_visit(
            correction.visit_id,
            Timestamp(now().0 + Duration::minutes(1)),
            None,
        )
        .unwrap();
    assert_eq!(done.device_seq, 2);
    assert_eq!(
        store
            .visit(draft.visit_id)
            .unwrap()
            .unwrap()
            .housing
            .floor_area_m2,
        draft.housing.floor_area_m2
    );
    assert!(store.start_correction(VisitId(Uuid::from_u128(5))).is_err());
}

#[test]
fn a_house_front_photo_must_be_stored_before_finishing() {
    let (_dir, store) = enrolled_store(1);
    let mut draft = filled_draft(&store, 0);
    draft.recommendation = Some(Recommendation::Remove);
    let photo = b"\xff\xd8 jpeg bytes".to_vec();
    draft.photos.push(Photo {
        sha256: Sha256::of(&photo),
        kind: PhotoKind::HouseFront,
    });
    store.save_draft(&draft).unwrap();
    let Err(Error::Invalid { issues }) = store.finish_visit(draft.visit_id, now(), None) else {
        panic!()
    };
    assert!(issues.iter().any(|i| i.code == "VIS-08"));
    let sha = store.put_attachment(&photo).unwrap();
    assert_eq!(
        store.put_attachment(&photo).unwrap(),
        sha,
        "stored once by hash"
    );
    assert_eq!(store.attachment(&sha).unwrap().unwrap(), photo);
    store.finish_visit(draft.visit_id, now(), None).unwrap();
}

#[test]
fn nik_on_another_household_of_the_phone_is_a_warning() {
    let (_dir, store) = enrolled_store(2);
    let other = sample::household(1, &sample::village(), 1, 1);
    let mut draft = filled_draft(&store, 0);
    let h = sample::household(0, &sample::village(), 1, 1);
    draft.member_changes.push(MemberChange::Update {
        member_id: h.members[2].member_id,
        details: MemberDetails {
            nik: other.members[2].details.nik.clone(),
            ..MemberDetails::default()
        },
    });
    store.save_draft(&draft).unwrap();
    let Err(Error::Invalid { issues }) = store.finish_visit(draft.visit_id, now(), None) else {
        panic!()
    };
    let warning = issues.iter().find(|i| i.code == "NIK-09").unwrap();
    assert!(warning.message_id.contains(&other.household_id.to_string()));
}

#[test]
fn households_of_one_rt_are_listed_by_head_name() {
    let (_dir, store) = enrolled_store(0);
    let village = sample::village();
    let states: Vec<_> = (0..30)
        .map(|i| {
            merge(
                &sample::household(i, &village, 1, 1 + (i % 3) as u16),
                &[],
                &[],
            )
            .unwrap()
        })
        .collect();
    store.save_households(&states, None).unwrap();
    let list = store
        .households_in_rt(&village, &Rw::new(1).unwrap(), &Rt::new(2).unwrap())
        .unwrap();
    assert_eq!(list.len(), 10);
    assert!(list.windows(2).all(|w| w[0].head_name <= w[1].head_name));
    assert!(list.iter().all(|h| h.rt.as_deref() == Some("002")));
}

#[test]
fn a_page_and_its_cursor_are_saved_together() {
    let (_dir, store) = enrolled_store(0);
    let first = merge(&sample::household(1, &sample::village(), 1, 1), &[], &[]).unwrap();
    let second = merge(&sample::household(2, &sample::village(), 1, 1), &[], &[]).unwrap();
    // Make the second household of the page fail to save.
    {
        let conn = store.lock().unwrap();
        conn.execute_batch("CREATE TRIGGER fail_second BEFORE INSERT ON households WHEN (SELECT count(*) FROM households) >= 1 BEGIN SELECT RAISE(ABORT, 'boom'); END;").unwrap();
    }
    assert!(
        store
            .save_households(&[first, second], Some("c-2"))
            .is_err()
    );
    assert_eq!(store.household_count().unwrap(), 0, "nothing of the page");
    assert_eq!(
        store.cursor().unwrap().as_deref(),
        Some("c-1"),
        "nor its cursor"
    );
}

#[test]
fn a_damaged_file_is_reported_and_left_untouched() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("phone.db");
    let garbage = vec![0x42u8; 8192];
    std::fs::write(&path, &garbage).unwrap();
    assert!(matches!(
        Store::open(&path, &sample::store_key()),
        Err(Error::Damaged { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn visits_need_an_enrolled_phone() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
    assert!(matches!(
        store.start_visit(None, now()),
        Err(Error::NotEnrolled)
    ));
}

fn answer(item: &OutboxItem, status: PushStatus, issues: Vec<Issue>) -> PushResult {
    PushResult {
        visit_id: Some(item.visit.visit_id),
        device_seq: Some(item.device_seq),
        status,
        issues,
    }
}

#[test]
fn answers_leave_the_queue_and_a_rejected_visit_returns_to_the_drafts() {
    let (_dir, store) = enrolled_store(3);
    for i in 0..3 {
        let d = filled_draft(&store, i);
        store.finish_visit(d.visit_id, now(), None).unwrap();
    }
    let queued = store.pending_outbox(10).unwrap();
    let why = Issue::new(&crate::validate::rules::VIS_09, "proposal");
    store
        .record_answers(&[
            answer(&queued[0], PushStatus::Accepted, vec![]),
            answer(&queued[1], PushStatus::Rejected, vec![why.clone()]),
        ])
        .unwrap();
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(store.pending_outbox(10).unwrap()[0].device_seq, 3);

    // The rejected visit is a draft again, under a new id, with the server's reason beside it.
    let outbox = store.outbox(10).unwrap();
    let rejected = outbox.iter().find(|o| o.device_seq == 2).unwrap();
    assert_eq!(rejected.state, OutboxState::Rejected);
    assert_eq!(rejected.issues, vec![why.clone()]);
    let draft_id = rejected.reopened_as.unwrap();
    assert_ne!(draft_id, queued[1].visit.visit_id);
    let draft = store.visit(draft_id).unwrap().unwrap();
    assert_eq!(draft.finished_at, None);
    assert_eq!(draft.household_id, queued[1].visit.household_id);
    assert_eq!(draft.members_reviewed, queued[1].visit.members_reviewed);
    assert_eq!(store.rejection_of(draft_id).unwrap(), vec![why]);
    assert!(
        store
            .drafts()
            .unwrap()
            .iter()
            .any(|d| d.visit_id == draft_id)
    );

    // A retried push answered again, or an answer that is not this phone's, changes nothing.
    let mut foreign = answer(&queued[2], PushStatus::Accepted, vec![]);
    foreign.device_seq = Some(99);
    store
        .record_answers(&[
            answer(&queued[1], PushStatus::Rejected, vec![]),
            answer(&queued[0], PushStatus::Duplicate, vec![]),
            foreign,
        ])
        .unwrap();
    assert_eq!(store.drafts().unwrap().len(), 1, "reopened once");
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(store.outbox(10).unwrap(), outbox);
}

#[test]
fn a_pulled_page_brings_states_reviews_and_removals_with_its_cursor() {
    let (_dir, store) = enrolled_store(3);
    let ids: Vec<HouseholdId> = (0..3)
        .map(|i| sample::household(i, &sample::village(), 1, 1).household_id)
        .collect();
    // Unsent work on household 1 keeps it on the phone when it leaves the areas.
    let d = filled_draft(&store, 1);
    let review = |decision: Decision, n: u128| Review {
        review_id: ReviewId(Uuid::from_u128(n)),
        household_id: ids[2],
        visit_id: None,
        decision,
        other_household_id: None,
        comment: Some("Foto rumah kurang jelas".into()),
        reviewer_id: UserId(Uuid::from_u128(5)),
        decided_at: now(),
    };
    let page = PullResponse {
        households: vec![],
        reviews: vec![
            review(Decision::RequestRevisit, 1),
            review(Decision::Approve, 2),
        ],
        removed: vec![ids[0], ids[1]],
        next_cursor: "c-9".into(),
        more: false,
        remaining: 0,
        stored_up_to: None,
    };
    let applied = store.apply_pull(&page).unwrap();
    assert_eq!(
        applied,
        PageApplied {
            households: 0,
            reviews: 2,
            removed: 1,
            kept: 1,
            requeued: 0
        }
    );
    assert!(store.household(ids[0]).unwrap().is_none());
    assert!(store.household(ids[1]).unwrap().is_some());
    assert_eq!(store.visit(d.visit_id).unwrap().unwrap(), d);
    assert_eq!(store.cursor().unwrap().as_deref(), Some("c-9"));

    // The inbox holds what asks something of the enumerator; an approval of no visit of this
    // phone is none of its business.
    let inbox = store.inbox().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].review.decision, Decision::RequestRevisit);
    assert!(inbox[0].head_name.is_some());
    assert!(!inbox[0].read);
    store.mark_read(inbox[0].review.review_id).unwrap();
    assert!(store.inbox().unwrap()[0].read);
    assert!(store.mark_read(ReviewId(Uuid::from_u128(77))).is_err());

    // The same page again adds nothing.
    assert_eq!(store.apply_pull(&page).unwrap().reviews, 0);
}

#[test]
fn a_resolved_conflict_reaches_the_inbox_saying_whose_visit_was_chosen() {
    let (_dir, store) = enrolled_store(1);
    let household = sample::household(0, &sample::village(), 1, 1).household_id;
    let mine = filled_draft(&store, 0).visit_id;
    let resolution =
        |n: u128, chosen: VisitId| decided(n, household, chosen, Decision::ResolveConflict);
    let page = PullResponse {
        households: vec![],
        reviews: vec![resolution(1, mine), resolution(2, VisitId::new_v7())],
        removed: vec![],
        next_cursor: "c-2".into(),
        more: false,
        remaining: 0,
        stored_up_to: None,
    };
    store.apply_pull(&page).unwrap();
    let mut told: Vec<(ReviewId, Option<bool>)> = store
        .inbox()
        .unwrap()
        .into_iter()
        .map(|i| (i.review.review_id, i.chosen_visit_is_mine))
        .collect();
    told.sort();
    assert_eq!(
        told,
        [
            (ReviewId(Uuid::from_u128(1)), Some(true)),
            (ReviewId(Uuid::from_u128(2)), Some(false)),
        ]
    );
}

#[test]
fn photos_are_sent_once_confirmed() {
    let (_dir, store) = enrolled_store(0);
    let a = store.put_attachment(b"rumah tampak depan").unwrap();
    let b = store.put_attachment(b"kartu keluarga").unwrap();
    assert_eq!(
        store.unsent_attachments().unwrap(),
        vec![a.clone(), b.clone()]
    );
    store
        .mark_attachments_sent(std::slice::from_ref(&a))
        .unwrap();
    store
        .mark_attachments_sent(std::slice::from_ref(&a))
        .unwrap();
    assert_eq!(store.unsent_attachments().unwrap(), vec![b]);
}

#[test]
fn an_enrollment_is_kept_whole() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path().join("phone.db"), &sample::store_key()).unwrap();
    assert_eq!(store.enrollment().unwrap(), None);
    let e = Enrollment {
        server_url: "http://127.0.0.1:8080".into(),
        device_id: DeviceId(Uuid::from_u128(1)),
        enumerator_id: EnumeratorId(Uuid::from_u128(2)),
        enumerator_name: "Siti".into(),
        token: "rahasia".into(),
        areas: vec![Area {
            region: sample::village(),
            rw: None,
            rt: None,
        }],
    };
    store.save_enrollment(&e).unwrap();
    assert_eq!(store.enrollment().unwrap(), Some(e.clone()));
    assert!(
        !format!("{e:?}").contains("rahasia"),
        "the token is never printed"
    );
    assert!(store.start_visit(None, now()).is_ok());
}

#[test]
fn a_household_the_phone_does_not_hold_needs_a_proposal() {
    let (_dir, store) = enrolled_store(0);
    let draft = store
        .start_visit(None, Timestamp(now().0 - Duration::minutes(20)))
        .unwrap();
    assert!(
        draft.household_id.is_some(),
        "a new household gets its id on the phone"
    );
    let mut visit = draft.clone();
    visit.outcome = Some(Outcome::NobodyHome);
    store.save_draft(&visit).unwrap();
    let Err(Error::Invalid { issues }) = store.finish_visit(visit.visit_id, now(), None) else {
        panic!()
    };
    assert!(
        issues
            .iter()
            .any(|i| i.code == "VIS-09" && i.field == "proposal")
    );
    visit.proposal = Some(HouseholdProposal {
        region: sample::village(),
        rw: Some(Entered::from_input("1")),
        rt: Some(Entered::from_input("4")),
        address: "Dusun 2".into(),
        head_name: "Sumarni".into(),
    });
    store.save_draft(&visit).unwrap();
    store.finish_visit(visit.visit_id, now(), None).unwrap();
}

#[test]
fn answers_are_set_by_their_wire_path_and_a_wrong_kind_changes_nothing() {
    let (_dir, store) = enrolled_store(1);
    let h = sample::household(0, &sample::village(), 1, 1);
    let draft = store.start_visit(Some(h.household_id), now()).unwrap();
    let id = draft.visit_id;
    store
        .set_answer(id, "outcome", serde_json::json!("FOUND"))
        .unwrap();
    store
        .set_answer(id, "housing.floor", serde_json::json!("EARTH"))
        .unwrap();
    let visit = store
        .set_answer(
            id,
            "welfare.monthly_expenditure_rp",
            serde_json::json!(850_000),
        )
        .unwrap();
    assert_eq!(visit.outcome, Some(Outcome::Found));
    assert_eq!(visit.housing.floor, Some(FloorMaterial::Earth));
    assert_eq!(visit.welfare.monthly_expenditure_rp, Some(850_000));
    assert_eq!(store.visit(id).unwrap().unwrap(), visit);

    // Typed text that is not a valid KK number is kept as typed, for the form to show.
    let visit = store
        .set_answer(id, "kk_number", serde_json::json!("16O4"))
        .unwrap();
    assert_eq!(visit.kk_number, Some(Entered::from_input("16O4")));

    for (path, value) in [
        ("outcome", serde_json::json!("SOMEWHERE")),
        (
            "welfare.monthly_expenditure_rp",
            serde_json::json!("banyak"),
        ),
        ("no_such_question", serde_json::json!(1)),
        ("device_id", serde_json::json!("x")),
        ("housing.", serde_json::json!(1)),
    ] {
        assert!(
            matches!(
                store.set_answer(id, path, value),
                Err(Error::BadAnswer { .. })
            ),
            "{path}"
        );
    }
    assert_eq!(store.visit(id).unwrap().unwrap(), visit, "unchanged");

    let cleared = store
        .set_answer(id, "housing.floor", serde_json::Value::Null)
        .unwrap();
    assert_eq!(cleared.housing.floor, None);
}

#[test]
fn households_are_found_by_part_of_a_name_or_a_whole_nik() {
    let (_dir, store) = enrolled_store(5);
    let h = sample::household(3, &sample::village(), 1, 1);
    let word = h
        .head_name
        .split_whitespace()
        .next()
        .unwrap()
        .to_uppercase();
    let found = store.search_households(&word[1..]).unwrap();
    assert!(found.iter().any(|s| s.household_id == h.household_id));
    let nik = h.members[0].nik().unwrap().clone();
    let by_nik = store.search_households(nik.as_str()).unwrap();
    assert_eq!(by_nik.len(), 1);
    assert_eq!(by_nik[0].household_id, h.household_id);
    assert!(store.search_households("%").unwrap().is_empty());
    assert!(store.search_households("  ").unwrap().is_empty());
}

#[test]
fn nothing_personal_is_readable_from_the_files_and_a_wrong_key_changes_nothing() {
    use seal_clear::tests::{COMMENT, ENUMERATOR, KK, NOTE, TOKEN, revisit_request, secrets};
    let (dir, store) = enrolled_store(20);
    store
        .save_enrollment(&Enrollment {
            server_url: "https://verivali.example".into(),
            device_id: DeviceId(Uuid::from_u128(7)),
            enumerator_id: EnumeratorId(Uuid::from_u128(8)),
            enumerator_name: ENUMERATOR.into(),
            token: TOKEN.into(),
            areas: vec![],
        })
        .unwrap();
    // A day's work: visits with a KK number and notes finished and answered (one rejected and
    // reopened), another kept as a draft, a photo, a supervisor's comment pulled.
    for i in 0..3 {
        let mut d = filled_draft(&store, i);
        d.kk_number = Some(Entered::from_input(KK));
        d.notes = Some(NOTE.into());
        store.save_draft(&d).unwrap();
        if i < 2 {
            store.finish_visit(d.visit_id, now(), None).unwrap();
        }
    }
    let queued = store.pending_outbox(10).unwrap();
    let why = Issue::new(&crate::validate::rules::VIS_09, "proposal");
    store
        .record_answers(&[answer(&queued[0], PushStatus::Rejected, vec![why])])
        .unwrap();
    store
        .put_attachment(b"JPEG photo of Suwarni's house")
        .unwrap();
    let household = sample::household(2, &sample::village(), 1, 1);
    store
        .apply_pull(&PullResponse {
            households: vec![],
            reviews: vec![revisit_request(household.household_id)],
            removed: vec![],
            next_cursor: "c-2".into(),
            more: false,
            remaining: 0,
            stored_up_to: None,
        })
        .unwrap();

    let households: Vec<Household> = (0..20)
        .map(|i| sample::household(i, &sample::village(), 1, 1))
        .collect();
    let secrets = secrets(&households);
    // Read back whole through the key, unreadable from the files while open and after.
    assert_eq!(store.enrollment().unwrap().unwrap().token, TOKEN);
    assert_eq!(
        store.inbox().unwrap()[0].review.comment.as_deref(),
        Some(COMMENT)
    );
    seal_clear::tests::assert_files_hold_none(dir.path(), &secrets);
    drop(store);
    seal_clear::tests::assert_files_hold_none(dir.path(), &secrets);

    // A wrong key is told, and the file stays exactly as it was.
    let path = dir.path().join("phone.db");
    let before = std::fs::read(&path).unwrap();
    let wrong = StoreKey::from_array([0xA5; StoreKey::LEN]);
    assert!(matches!(Store::open(&path, &wrong), Err(Error::WrongKey)));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let store = Store::open(&path, &sample::store_key()).unwrap();
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(
        store.drafts().unwrap().len(),
        2,
        "the kept draft and the reopened one"
    );
}

#[test]
fn a_family_without_an_rt_is_on_every_rt_list_of_its_village() {
    let (_dir, store) = enrolled_store(4);
    let mut unplaced = sample::household(9, &sample::village(), 1, 1);
    (unplaced.rw, unplaced.rt) = (None, None);
    store
        .save_households(&[merge(&unplaced, &[], &[]).unwrap()], None)
        .unwrap();
    let village = sample::village();
    for rt in [1, 2] {
        let list = store
            .households_in_rt(&village, &Rw::new(1).unwrap(), &Rt::new(rt).unwrap())
            .unwrap();
        let line = list
            .iter()
            .find(|l| l.household_id == unplaced.household_id)
            .expect("on the list");
        assert_eq!(line.rt, None, "shown as not placed yet");
        assert_eq!(list.len(), if rt == 1 { 5 } else { 1 });
    }
}

/// A visit as the server accepted it, for the states a test pulls.
/// A supervisor's decision `n` on a visit of a household, without a comment.
fn decided(n: u128, household: HouseholdId, visit: VisitId, decision: Decision) -> Review {
    Review {
        review_id: ReviewId(Uuid::from_u128(n)),
        household_id: household,
        visit_id: Some(visit),
        decision,
        other_household_id: None,
        comment: None,
        reviewer_id: UserId(Uuid::from_u128(5)),
        decided_at: now(),
    }
}

fn accepted(visit: Visit) -> crate::merge::AcceptedVisit {
    crate::merge::AcceptedVisit {
        content_hash: crate::canonical::visit_content_hash(&visit).unwrap(),
        order_time: visit.finished_at.unwrap(),
        visit,
    }
}

#[test]
fn the_inbox_tells_of_approvals_conflicts_and_changes_by_another_enumerator_since_a_draft() {
    let (_dir, store) = enrolled_store(3);
    let household = |i: u64| sample::household(i, &sample::village(), 1, 1);
    let other = |i: u64, minutes_ago: i64, assessment: Assessment| {
        let mut v = sample::found_visit(
            &household(i),
            EnumeratorId(Uuid::from_u128(80)),
            DeviceId(Uuid::from_u128(70)),
            Timestamp(now().0 - Duration::minutes(minutes_ago)),
            i + 100,
        );
        v.assessment = Some(assessment);
        v
    };
    // Household 0: this phone's visit, then another enumerator's that disagrees on the verdict.
    let mine = filled_draft(&store, 0);
    store.finish_visit(mine.visit_id, now(), None).unwrap();
    let mine = store.visit(mine.visit_id).unwrap().unwrap();
    let mut differs = Assessment::NotPoor;
    if mine.assessment == Some(differs) {
        differs = Assessment::ExtremePoor;
    }
    // A household's state as the server merged it from these visits.
    let merged = |i: u64, visits: Vec<Visit>| {
        let visits: Vec<_> = visits.into_iter().map(accepted).collect();
        merge(&household(i), &visits, &[]).unwrap()
    };
    let conflicting = merged(0, vec![mine.clone(), other(0, 5, differs)]);
    // Household 1: a draft opened 20 minutes ago; another enumerator finished a visit since.
    let open = filled_draft(&store, 1);
    let changed = merged(1, vec![other(1, 2, Assessment::Poor)]);
    // Household 2: a draft opened after another enumerator's visit: nothing to tell.
    let _later = filled_draft(&store, 2);
    let before = merged(2, vec![other(2, 60, Assessment::Poor)]);
    let approval = |n: u128, visit: VisitId, household: HouseholdId| {
        decided(n, household, visit, Decision::Approve)
    };
    let page = PullResponse {
        households: vec![conflicting.clone(), changed.clone(), before],
        reviews: vec![
            approval(1, mine.visit_id, household(0).household_id),
            approval(2, changed.state.visits_used[0], household(1).household_id),
        ],
        removed: vec![],
        next_cursor: "c-3".into(),
        more: false,
        remaining: 0,
        stored_up_to: None,
    };
    store.apply_pull(&page).unwrap();

    // The approval of this phone's visit is in the inbox; another enumerator's is not.
    let inbox = store.inbox().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].review.review_id, ReviewId(Uuid::from_u128(1)));
    assert_eq!(
        inbox[0].head_name.as_deref(),
        Some(household(0).head_name.as_str())
    );

    let notices = store.notices().unwrap();
    let mut expected = vec![
        HouseholdNotice {
            household_id: household(0).household_id,
            head_name: household(0).head_name,
            kind: NoticeKind::Conflict {
                fields: vec![crate::merge::ConflictField::Assessment],
            },
        },
        HouseholdNotice {
            household_id: household(1).household_id,
            head_name: household(1).head_name,
            kind: NoticeKind::ChangedSinceDraft {
                draft_id: open.visit_id,
                changed_at: changed.state.last_visit_at.unwrap(),
            },
        },
    ];
    expected.sort_by_key(|n| n.household_id);
    assert_eq!(notices, expected);

    // Resolved, the conflict is no longer told; finished, the draft no longer asks.
    let resolution = Review {
        decision: Decision::ResolveConflict,
        ..approval(3, mine.visit_id, household(0).household_id)
    };
    let resolved = merge(
        &household(0),
        &[accepted(mine.clone()), accepted(other(0, 5, differs))],
        std::slice::from_ref(&resolution),
    )
    .unwrap();
    store.discard_draft(open.visit_id).unwrap();
    store
        .apply_pull(&PullResponse {
            households: vec![resolved],
            reviews: vec![resolution],
            removed: vec![],
            next_cursor: "c-4".into(),
            more: false,
            remaining: 0,
            stored_up_to: None,
        })
        .unwrap();
    assert_eq!(store.notices().unwrap(), []);
}

#[test]
fn visits_a_restored_server_no_longer_holds_are_queued_again_with_their_photos() {
    let (_dir, store) = enrolled_store(4);
    for i in 0..4 {
        let mut d = filled_draft(&store, i);
        d.photos = vec![Photo {
            sha256: store
                .put_attachment(format!("rumah {i}").as_bytes())
                .unwrap(),
            kind: PhotoKind::HouseFront,
        }];
        store.save_draft(&d).unwrap();
        store.finish_visit(d.visit_id, now(), None).unwrap();
    }
    let queued = store.pending_outbox(10).unwrap();
    let why = Issue::new(&crate::validate::rules::VIS_09, "proposal");
    store
        .record_answers(&[
            answer(&queued[0], PushStatus::Accepted, vec![]),
            answer(&queued[1], PushStatus::Duplicate, vec![]),
            answer(&queued[2], PushStatus::Accepted, vec![]),
            answer(&queued[3], PushStatus::Rejected, vec![why]),
        ])
        .unwrap();
    let photos: Vec<Sha256> = queued
        .iter()
        .map(|q| q.visit.photos[0].sha256.clone())
        .collect();
    store.mark_attachments_sent(&photos).unwrap();
    let page = |stored_up_to| PullResponse {
        households: vec![],
        reviews: vec![],
        removed: vec![],
        next_cursor: "c-5".into(),
        more: false,
        remaining: 0,
        stored_up_to,
    };
    // A server that holds all of them, or an older one that does not say: nothing moves.
    assert_eq!(store.apply_pull(&page(Some(4))).unwrap().requeued, 0);
    assert_eq!(store.apply_pull(&page(None)).unwrap().requeued, 0);
    // Restored from a backup holding the first visit only: the two acknowledged after it go
    // again, with their photos; the rejected one stays a draft.
    assert_eq!(store.apply_pull(&page(Some(1))).unwrap().requeued, 2);
    let again: Vec<u64> = store
        .pending_outbox(10)
        .unwrap()
        .iter()
        .map(|o| o.device_seq)
        .collect();
    assert_eq!(again, [2, 3]);
    let mut unsent = store.unsent_attachments().unwrap();
    unsent.sort();
    let mut expected = vec![photos[1].clone(), photos[2].clone()];
    expected.sort();
    assert_eq!(unsent, expected);

    // The store restored onto a new enrollment of the same enumerator: the server holds nothing
    // of the new device yet, and the former phone's acknowledged visits stay where they are.
    let again = store.pending_outbox(10).unwrap();
    store
        .record_answers(&[
            answer(&again[0], PushStatus::Duplicate, vec![]),
            answer(&again[1], PushStatus::Duplicate, vec![]),
        ])
        .unwrap();
    store
        .set_identity(
            DeviceId(Uuid::from_u128(17)),
            EnumeratorId(Uuid::from_u128(8)),
        )
        .unwrap();
    assert_eq!(store.apply_pull(&page(Some(0))).unwrap().requeued, 0);
    assert_eq!(store.pending_count().unwrap(), 0);
}
