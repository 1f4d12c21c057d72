//! A supervisor's decision as the server reads it (`POST /api/v1/reviews`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_server::review::ReviewRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<ReviewRequest>(data) {
        // What is read is written back whole.
        let again = serde_json::to_vec(&request).expect("a read request writes");
        let reread: ReviewRequest = serde_json::from_slice(&again).expect("and reads again");
        assert_eq!(format!("{reread:?}"), format!("{request:?}"));
    }
});
