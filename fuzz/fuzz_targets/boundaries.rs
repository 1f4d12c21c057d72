//! A district's village outlines (GeoJSON) as `import-boundaries` reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_server::map::read_boundaries;

fuzz_target!(|data: &[u8]| {
    if let Ok(features) = read_boundaries(data, None) {
        for (code, geometry) in features.into_iter().flatten() {
            assert!(!code.to_string().is_empty() && geometry.starts_with('{'));
        }
    }
});
