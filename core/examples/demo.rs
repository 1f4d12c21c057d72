//! A small tour of the core, run by the README's main command until the server exists:
//! one household of the sample list, a visit with mistakes (its issues come back as data), a
//! phone store where a draft is kept, refused, corrected and finished into the outbox, and two
//! complete visits by two enumerators that disagree, merged into one state with its hash.

#![allow(clippy::unwrap_used)]

use verivali_core::merge::{AcceptedVisit, merge};
use verivali_core::model::*;
use verivali_core::suggest::{SuggestionConfig, suggest};
use verivali_core::validate::{Context, validate_visit};
use verivali_core::{canonical, sample};

fn main() {
    let village = sample::village();
    let household = sample::household(1, &village, 2, 5);
    println!(
        "Keluarga / household: {} (RW {}, RT {}, desa {})",
        household.head_name,
        household.rw.as_ref().map_or("-", |r| r.as_str()),
        household.rt.as_ref().map_or("-", |r| r.as_str()),
        household.region
    );
    for m in &household.members {
        let nik = m.nik().map(Nik::masked);
        println!(
            "  - {} ({}), NIK {}",
            m.name(),
            m.details.relation.map_or("-", |r| r.label_id()),
            nik.unwrap_or_default()
        );
    }

    let now = Timestamp::now_utc();
    let ctx = Context {
        household: Some(&household),
        ..Context::new(now)
    };
    let (ani, budi) = (
        EnumeratorId(uuid::Uuid::from_u128(1)),
        EnumeratorId(uuid::Uuid::from_u128(2)),
    );
    let (phone_a, phone_b) = (
        DeviceId(uuid::Uuid::from_u128(11)),
        DeviceId(uuid::Uuid::from_u128(12)),
    );

    println!("\nKunjungan dengan kesalahan / a visit with mistakes:");
    let mut careless = Visit::draft(Some(household.household_id), ani, phone_a, now);
    careless.finished_at = Some(now);
    careless.outcome = Some(Outcome::MovedAway);
    careless.kk_number = Some(Entered::from_input("1604 0123 4567"));
    for issue in validate_visit(&careless, &ctx) {
        println!(
            "  [{} {}] {}: {} / {}",
            issue.code,
            issue.severity.label_id(),
            issue.field,
            issue.message_id,
            issue.message_en
        );
    }

    let first = sample::found_visit(
        &household,
        ani,
        phone_a,
        Timestamp(now.0 - time::Duration::hours(3)),
        1,
    );
    let mut second = sample::found_visit(
        &household,
        budi,
        phone_b,
        Timestamp(now.0 - time::Duration::hours(1)),
        2,
    );
    second.assessment = Some(Assessment::NotPoor);
    second.recommendation = Some(Recommendation::Remove);
    second.photos.push(Photo {
        sha256: Sha256::of(b"house front photo"),
        kind: PhotoKind::HouseFront,
    });

    phone_store(&household, ani, phone_a);

    let blocking = validate_visit(&first, &ctx)
        .into_iter()
        .filter(|i| i.blocks_finishing())
        .count();
    println!("\nKunjungan lengkap / complete visit: {blocking} issues block finishing");
    let s = suggest(
        &first.housing,
        &first.welfare,
        &household.members,
        &SuggestionConfig::default(),
    );
    println!(
        "  Saran / suggestion: {} of 14 BPS criteria met; Rp{}/person/month against a line of Rp{}",
        s.criteria_met.len(),
        s.per_capita_monthly_rp.unwrap_or(0),
        s.extreme_poverty_line_rp
    );

    let accepted: Vec<AcceptedVisit> = [first, second]
        .into_iter()
        .map(|v| AcceptedVisit {
            content_hash: canonical::visit_content_hash(&v).unwrap(),
            order_time: v.finished_at.unwrap(),
            visit: v,
        })
        .collect();
    let merged = merge(&household, &accepted, &[]).unwrap();
    let reversed: Vec<AcceptedVisit> = accepted.iter().rev().cloned().collect();
    let again = merge(&household, &reversed, &[]).unwrap();
    println!(
        "\nGabungan / merged: status {} ({}), assessment {:?}, {} conflict(s)",
        merged.state.status.label_id(),
        merged.state.status.label_en(),
        merged.state.assessment.map(|a| a.label_id()),
        merged.state.conflicts.len()
    );
    println!("  state_hash {}", merged.state_hash);
    println!(
        "  same hash in the other arrival order: {}",
        merged.state_hash == again.state_hash
    );
}

/// The phone's side: a draft keeps a mistyped NIK, finishing refuses it with the rule, the
/// enumerator corrects it, and the finished visit waits in the outbox with its number.
fn phone_store(household: &Household, enumerator: EnumeratorId, device: DeviceId) {
    let dir = tempfile::TempDir::new().unwrap();
    let store =
        verivali_core::store::Store::open(dir.path().join("phone.db"), &sample::store_key())
            .unwrap();
    store.set_identity(device, enumerator).unwrap();
    store
        .save_households(&[merge(household, &[], &[]).unwrap()], None)
        .unwrap();

    let now = Timestamp::now_utc();
    let draft = store
        .start_visit(
            Some(household.household_id),
            Timestamp(now.0 - time::Duration::minutes(25)),
        )
        .unwrap();
    let mut visit = sample::fill_draft(&draft, household, now, 9);
    let child = household.members[3].member_id;
    let typed = |nik: &str| MemberChange::Update {
        member_id: child,
        details: MemberDetails {
            nik: Some(Entered::from_input(nik)),
            ..MemberDetails::default()
        },
    };
    visit.member_changes = vec![typed("1604 0110 0819 001")];
    store.save_draft(&visit).unwrap();
    println!(
        "\nPonsel / phone: draft saved with a NIK typed short; drafts: {}",
        store.drafts().unwrap().len()
    );
    if let Err(verivali_core::store::Error::Invalid { issues }) =
        store.finish_visit(visit.visit_id, now, None)
    {
        for i in issues.iter().filter(|i| i.blocks_finishing()) {
            println!(
                "  cannot finish: [{}] {} / {}",
                i.code, i.message_id, i.message_en
            );
        }
    }
    let nik = household.members[3]
        .details
        .nik
        .as_ref()
        .unwrap()
        .as_str()
        .to_owned();
    visit.member_changes = vec![typed(&nik)];
    store.save_draft(&visit).unwrap();
    let done = store.finish_visit(visit.visit_id, now, None).unwrap();
    println!(
        "  finished as device_seq {}, content hash {}…; waiting to send: {}",
        done.device_seq,
        &done.content_hash.as_str()[..12],
        store.pending_count().unwrap()
    );
}
