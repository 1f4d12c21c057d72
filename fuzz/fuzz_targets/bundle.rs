//! A phone's bundle file as the server reads it: heading and manifest, then the seal, the
//! items' hashes and the photos. A wrong key refuses it; nothing may panic or inflate past the
//! limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_core::bundle::{Unchecked, seal_key};

fuzz_target!(|data: &[u8]| {
    if let Ok(unchecked) = Unchecked::read(data) {
        let _ = unchecked.device_id();
        let _ = unchecked.check(&seal_key("fuzz"));
    }
});
