//! A photo as the server decodes it for a thumbnail: a crafted header must not make it allocate
//! without bound or panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_server::attachments::make_thumbnail;

fuzz_target!(|data: &[u8]| {
    let _ = make_thumbnail(data);
});
