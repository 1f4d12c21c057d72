use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::model::*;
use crate::sample;

fn canon(v: &Value) -> String {
    to_canonical_json(v).unwrap()
}

/// Fixed vectors: these strings and hashes are the contract between phones and servers of every
/// version. If one of these assertions fails, the canonical form changed: that is a bug.
#[test]
fn golden_vectors() {
    let cases: [(Value, &str); 8] = [
        (
            json!({"b": 1, "a": [true, false, null], "c": {"z": "x", "y": null}}),
            r#"{"a":[true,false,null],"b":1,"c":{"z":"x"}}"#,
        ),
        (
            json!({"n": 5.0, "m": -0.0, "f": 0.1, "e": 1e-7, "big": 1e21, "i": -42, "u": 18446744073709551615u64}),
            r#"{"big":1e+21,"e":1e-7,"f":0.1,"i":-42,"m":0,"n":5,"u":18446744073709551615}"#,
        ),
        (
            json!({"s": "Cafe\u{301} \"q\" \\ \n\t\u{1f} / é"}),
            "{\"s\":\"Caf\u{e9} \\\"q\\\" \\\\ \\n\\t\\u001f / \u{e9}\"}",
        ),
        (
            json!({"B": 1, "a": 2, "_": 3, "\u{e9}": 4, "z": 5}),
            "{\"B\":1,\"_\":3,\"a\":2,\"z\":5,\"\u{e9}\":4}",
        ),
        (json!([]), "[]"),
        (json!({}), "{}"),
        (json!("NIK 3201"), "\"NIK 3201\""),
        (
            json!({"nested": [{"b": 2, "a": 1}, [], {}]}),
            r#"{"nested":[{"a":1,"b":2},[],{}]}"#,
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(canon(&value), expected);
    }
    assert_eq!(
        hash_of(&json!({"b": 1, "a": "x", "c": null}))
            .unwrap()
            .as_str(),
        "cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246"
    );
}

/// A complete visit as a phone sends it. Its canonical text and content hash are fixed: a change
/// to the model's wire form that alters an existing visit's hash fails here.
const GOLDEN_VISIT: &str = r#"{"assessment":"EXTREME_POOR","consent":"INFORMED","device_id":"00000000-0000-0000-0000-000000000002","enumerator_id":"00000000-0000-0000-0000-000000000001","finished_at":"2026-11-21T09:30:00+07:00","household_id":"910a2dec-8902-5cc1-458c-107ed2b5a8a6","housing":{"cooking_fuel":"FIREWOOD","drinking_water":"PROTECTED_WELL","floor":"CEMENT","floor_area_m2":30,"lighting":"PLN_METERED","power_rating":"W450","roof":"ASBESTOS_ZINC","sanitation":"SHARED","tenure":"OWNED","wall":"BAMBOO"},"location":{"accuracy_m":14,"lat":-3.7394,"lon":103.5168,"source":"GPS"},"members_reviewed":true,"outcome":"FOUND","recommendation":"KEEP","respondent_name":"Sri Lestari","respondent_relation":"HEAD","started_at":"2026-11-21T09:15:00+07:00","visit_id":"1d0b14e4-db01-8fed-f972-badfe9b89ec6","welfare":{"assets":["TELEVISION"],"can_afford_clinic":true,"has_savings_500k":false,"meals_per_day":2,"meat_milk_per_week":1,"monthly_expenditure_rp":1200000,"new_clothes_per_year":1,"programs_received":["PKH"]}}"#;

#[test]
fn golden_visit_hash() {
    let visit: Visit = serde_json::from_str(GOLDEN_VISIT).unwrap();
    assert_eq!(
        to_canonical_json(&visit).unwrap(),
        GOLDEN_VISIT,
        "already canonical"
    );
    let hash = visit_content_hash(&visit).unwrap();
    assert_eq!(
        hash.as_str(),
        "59929cff95bd9581719363822b9fafbc3a53733a5b9e547bbc1da92e6f19bf43"
    );
    // Key order and spacing on the wire do not matter.
    let reordered: Value = serde_json::from_str(GOLDEN_VISIT).unwrap();
    let spaced = serde_json::to_string_pretty(&reordered).unwrap();
    assert_eq!(
        visit_content_hash(&serde_json::from_str(&spaced).unwrap()).unwrap(),
        hash
    );
}

/// Member changes carry calendar dates: on the wire they are ISO 8601 strings (`1990-05-12`), the
/// form the OpenAPI document gives and every client expects.
const GOLDEN_MEMBER_CHANGES: &str = r#"[{"member":{"details":{"birth_date":"2026-09-01","name":"Putri","relation":"CHILD","sex":"FEMALE"},"member_id":"00000000-0000-0000-0000-00000000000a","presence":"NEW"},"op":"ADD"},{"date":"2026-10-31","member_id":"00000000-0000-0000-0000-00000000000b","op":"MARK_MOVED"}]"#;

#[test]
fn golden_visit_with_dated_member_changes() {
    let mut visit: Value = serde_json::from_str(GOLDEN_VISIT).unwrap();
    visit["member_changes"] = serde_json::from_str(GOLDEN_MEMBER_CHANGES).unwrap();
    let visit: Visit = serde_json::from_value(visit).unwrap();
    let text = to_canonical_json(&visit).unwrap();
    assert!(
        text.contains(GOLDEN_MEMBER_CHANGES),
        "dates stay ISO strings: {text}"
    );
    assert_eq!(
        visit_content_hash(&visit).unwrap().as_str(),
        "1d5eb7099d3c62e5e869687d87410242b11a393ec196bc83e983c65733c2490d"
    );
}

/// A body stored by a build before dates became strings (`[year, day-of-year]`) still reads, as
/// the same date, and is written back as a string.
#[test]
fn a_date_stored_as_year_and_ordinal_still_reads() {
    let old: MemberChange = serde_json::from_str(
        r#"{"op":"MARK_MOVED","member_id":"00000000-0000-0000-0000-00000000000b","date":[2026,304]}"#,
    )
    .unwrap();
    let new: MemberChange = serde_json::from_str(
        r#"{"op":"MARK_MOVED","member_id":"00000000-0000-0000-0000-00000000000b","date":"2026-10-31"}"#,
    )
    .unwrap();
    assert_eq!(old, new);
    assert!(
        serde_json::to_string(&old)
            .unwrap()
            .contains(r#""date":"2026-10-31""#)
    );
}

#[test]
fn visit_hash_ignores_the_ids_the_software_gave_it() {
    let household = sample::household(1, &sample::village(), 1, 1);
    let visit = sample::found_visit(
        &household,
        EnumeratorId(uuid::Uuid::nil()),
        DeviceId(uuid::Uuid::nil()),
        Timestamp::now_utc(),
        1,
    );
    let mut again = visit.clone();
    again.visit_id = VisitId::new_v7();
    // A phone reinstalled sends the same visit under a new device id: still the same visit.
    again.device_id = DeviceId::new_v4();
    assert_eq!(
        visit_content_hash(&visit).unwrap(),
        visit_content_hash(&again).unwrap()
    );
    again.notes = Some("catatan".into());
    assert_ne!(
        visit_content_hash(&visit).unwrap(),
        visit_content_hash(&again).unwrap()
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Reverses the key order of every object, as another platform's serialiser might.
fn reversed_text(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), reversed_text(v)))
                .collect();
            format!("{{{}}}", members.join(" , "))
        }
        Value::Array(items) => format!(
            "[ {} ]",
            items
                .iter()
                .map(reversed_text)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => serde_json::to_string(other).unwrap(),
    }
}

/// Replaces every string (and key) by its NFD decomposition.
fn decomposed(v: &Value) -> Value {
    use unicode_normalization::UnicodeNormalization;
    match v {
        Value::String(s) => Value::String(s.nfd().collect()),
        Value::Array(items) => Value::Array(items.iter().map(decomposed).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.nfd().collect(), decomposed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Removes every null member of every object.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn key_order_and_whitespace_do_not_change_the_form(v in arb_json()) {
        let reparsed: Value = serde_json::from_str(&reversed_text(&v)).unwrap();
        prop_assert_eq!(canon(&reparsed), canon(&v));
    }

    #[test]
    fn unicode_normalisation_does_not_change_the_form(v in arb_json(), s in "[a-zA-Z ]{0,3}(e\u{301}|\u{e9}|A\u{30a}|\u{c5}|\u{1e69}|s\u{323}\u{307})[a-z]{0,3}") {
        let wrapped = json!({"text": s, "inner": v});
        prop_assert_eq!(canon(&decomposed(&wrapped)), canon(&wrapped));
    }

    #[test]
    fn absent_and_null_fields_hash_alike(v in arb_json()) {
        prop_assert_eq!(hash_of(&without_nulls(&v)).unwrap(), hash_of(&v).unwrap());
    }

    #[test]
    fn canonical_text_is_valid_json_and_a_fixed_point(v in arb_json()) {
        let text = canon(&v);
        let back: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(canon(&back), text);
    }
}

/// Strings are escaped exactly as serde_json escapes them (the form the golden vectors fixed when
/// serde_json wrote them): every character below U+0080, and text around them.
#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let mut samples: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
    samples.push("Rumah \"panggung\"\\\n\tdinding\u{1}papan\u{7f} — ñ 漢".into());
    samples.push(String::new());
    for s in samples {
        let mut out = String::new();
        write_string(&s, &mut out);
        assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
    }
}

proptest! {
    #[test]
    fn any_nfc_string_is_escaped_as_serde_json_escapes_it(s in "\\PC*|[\u{0}-\u{1f}\"\\\\a-z]{0,12}") {
        let s: String = s.nfc().collect();
        let mut out = String::new();
        write_string(&s, &mut out);
        prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
    }
}
