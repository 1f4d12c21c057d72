//! A pull page as the phone reads it and applies it to its store: households, reviews, removed
//! households and the cursor. Nothing may panic, and the store stays readable.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use verivali_core::protocol::PullResponse;
use verivali_core::store::Store;

/// One store for the whole run: pages arrive one after another, as on a phone.
fn store() -> &'static std::sync::Mutex<(tempfile::TempDir, Store)> {
    static STORE: OnceLock<std::sync::Mutex<(tempfile::TempDir, Store)>> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        let store = Store::open(dir.path().join("phone.db"), &verivali_core::sample::store_key()).expect("a store");
        std::sync::Mutex::new((dir, store))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(page) = serde_json::from_slice::<PullResponse>(data) else {
        return;
    };
    let Ok(guard) = store().lock() else {
        return;
    };
    let _ = guard.1.apply_pull(&page);
    let _ = guard.1.pending_count().expect("the store still reads");
});
