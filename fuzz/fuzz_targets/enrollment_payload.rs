//! An enrollment QR code as the phone's camera read it (any text): read as a server address and a
//! code, or refused. Nothing may panic, and what is read writes back to a payload that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_core::protocol::EnrollmentPayload;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(payload) = EnrollmentPayload::parse(text) {
        assert_eq!(EnrollmentPayload::parse(&payload.text()), Some(payload));
    }
});
