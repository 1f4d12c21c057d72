//! The canonical form a visit's content hash is taken of: a visit that reads has one, the form
//! reads back as the same visit, and its form is the same again (docs/canonical-form.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_core::canonical::{to_canonical_json, visit_content_hash};
use verivali_core::model::Visit;

fuzz_target!(|data: &[u8]| {
    let Ok(visit) = serde_json::from_slice::<Visit>(data) else {
        return;
    };
    let Ok(canonical) = to_canonical_json(&visit) else {
        return;
    };
    let reread: Visit = serde_json::from_str(&canonical).expect("the canonical form reads back");
    assert_eq!(
        to_canonical_json(&reread).ok().as_deref(),
        Some(canonical.as_str()),
        "the canonical form of the canonical form is itself"
    );
    assert_eq!(
        visit_content_hash(&reread).ok(),
        visit_content_hash(&visit).ok()
    );
});
