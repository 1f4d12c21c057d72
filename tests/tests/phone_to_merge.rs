//! Across the phone's store and the merge that the server runs: a visit finished on a phone keeps
//! its content hash through the wire, and the households merged from the phones' outboxes hash the
//! same in any arrival order.

#![allow(clippy::unwrap_used)]

use tempfile::TempDir;
use uuid::Uuid;
use verivali_core::canonical::visit_content_hash;
use verivali_core::merge::{AcceptedVisit, merge};
use verivali_core::model::*;
use verivali_core::sample;
use verivali_core::store::Store;

fn phone(dir: &TempDir, n: u128, households: &[Household]) -> Store {
    let store = Store::open(
        dir.path().join(format!("phone-{n}.db")),
        &sample::store_key(),
    )
    .unwrap();
    store
        .set_identity(
            DeviceId(Uuid::from_u128(100 + n)),
            EnumeratorId(Uuid::from_u128(n)),
        )
        .unwrap();
    let states: Vec<_> = households
        .iter()
        .map(|h| merge(h, &[], &[]).unwrap())
        .collect();
    store.save_households(&states, None).unwrap();
    store
}

fn record_visits(store: &Store, households: &[Household], minutes: i64) {
    for (i, h) in households.iter().enumerate() {
        let now = Timestamp(Timestamp::now_utc().0 - time::Duration::minutes(minutes + i as i64));
        let draft = store
            .start_visit(
                Some(h.household_id),
                Timestamp(now.0 - time::Duration::minutes(20)),
            )
            .unwrap();
        let v = sample::fill_draft(&draft, h, now, i as u64 + minutes as u64);
        store.save_draft(&v).unwrap();
        store.finish_visit(v.visit_id, now, None).unwrap();
    }
}

#[test]
fn a_finished_visit_keeps_its_hash_through_the_wire() {
    let dir = TempDir::new().unwrap();
    let households: Vec<Household> = (0..5)
        .map(|i| sample::household(i, &sample::village(), 1, 1))
        .collect();
    let store = phone(&dir, 1, &households);
    record_visits(&store, &households, 0);
    for item in store.pending_outbox(100).unwrap() {
        let wire = serde_json::to_string(&item.visit).unwrap();
        let received: Visit = serde_json::from_str(&wire).unwrap();
        assert_eq!(visit_content_hash(&received).unwrap(), item.content_hash);
        assert_eq!(received, item.visit);
    }
}

#[test]
fn households_merged_from_two_phones_hash_the_same_in_any_order() {
    let dir = TempDir::new().unwrap();
    let households: Vec<Household> = (0..8)
        .map(|i| sample::household(i, &sample::village(), 2, 3))
        .collect();
    let (a, b) = (phone(&dir, 1, &households), phone(&dir, 2, &households));
    record_visits(&a, &households, 30);
    record_visits(&b, &households, 90);
    let received: Vec<AcceptedVisit> = [&a, &b]
        .iter()
        .flat_map(|p| p.pending_outbox(100).unwrap())
        .map(|item| {
            let visit: Visit =
                serde_json::from_str(&serde_json::to_string(&item.visit).unwrap()).unwrap();
            AcceptedVisit {
                content_hash: item.content_hash,
                order_time: visit.finished_at.unwrap(),
                visit,
            }
        })
        .collect();
    assert_eq!(received.len(), 16);
    let mut reversed = received.clone();
    reversed.reverse();
    for h in &households {
        let forward = merge(h, &received, &[]).unwrap();
        let backward = merge(h, &reversed, &[]).unwrap();
        assert_eq!(forward.state_hash, backward.state_hash);
        assert_eq!(forward.state.visits_used.len(), 2);
    }
}
