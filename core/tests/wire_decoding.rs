//! The wire decoders never panic, whatever arrives: arbitrary text, and real visits with bytes
//! flipped, cut short or spliced.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use uuid::Uuid;
use verivali_core::model::*;
use verivali_core::sample;

fn visit_json() -> String {
    let h = sample::household(1, &sample::village(), 1, 1);
    let mut v = sample::found_visit(
        &h,
        EnumeratorId(Uuid::nil()),
        DeviceId(Uuid::nil()),
        Timestamp::now_utc(),
        1,
    );
    v.member_changes.push(MemberChange::MarkDeceased {
        member_id: h.members[1].member_id,
        date: None,
    });
    serde_json::to_string(&v).unwrap()
}

fn decode_all(text: &str) {
    let _ = serde_json::from_str::<Visit>(text);
    let _ = serde_json::from_str::<Household>(text);
    let _ = serde_json::from_str::<Review>(text);
    let _ = serde_json::from_str::<verivali_core::merge::Merged>(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        decode_all(&s);
    }

    #[test]
    fn mangled_visits_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut bytes = visit_json().into_bytes();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        decode_all(&text);
        decode_all(&text[..text.char_indices().map(|(i, _)| i).nth(cut.index(text.chars().count())).unwrap_or(0)]);
    }

    #[test]
    fn fields_of_the_wrong_type_are_errors(field in prop::sample::select(vec!["outcome", "started_at", "household_id", "housing", "member_changes", "location", "photos"]),
                                            value in prop_oneof![Just(serde_json::json!(12)), Just(serde_json::json!("x")), Just(serde_json::json!([1])), Just(serde_json::json!({"a": null}))]) {
        let mut v: serde_json::Value = serde_json::from_str(&visit_json()).unwrap();
        v[field] = value;
        prop_assert!(serde_json::from_value::<Visit>(v).is_err());
    }
}
