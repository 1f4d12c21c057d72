//! A phone's push, as the server reads it: the request, each item decoded and hashed, and each
//! visit checked by the rules, with and without its household. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use verivali_core::model::Timestamp;
use verivali_core::protocol::PushRequest;
use verivali_core::validate::{Context, validate_visit};
use verivali_server::ingest::{self, Slot};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<PushRequest<Box<RawValue>>>(data) else {
        return;
    };
    let now = Timestamp::now_utc();
    for slot in ingest::decode(request.items) {
        if let Slot::Pending { item, .. } = slot {
            let _ = validate_visit(&item.visit, &Context::new(now));
        }
    }
});
