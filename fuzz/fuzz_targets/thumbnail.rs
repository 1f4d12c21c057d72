//! A photo as the phone stores it (upright, shrunk, without metadata) and as the server decodes it
//! for a thumbnail: a crafted header or orientation tag must not make either allocate without
//! bound or panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_core::photo::{for_the_record, thumbnail};

fuzz_target!(|data: &[u8]| {
    let _ = for_the_record(data);
    let _ = thumbnail(data, 320);
});
