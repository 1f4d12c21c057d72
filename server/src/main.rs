//! verivali-server: receives, deduplicates and merges visits, and serves supervisors.
//!
//! The server is built in issue 3; until then this binary only proves that the server builds
//! against the core without the phone's store.

use verivali_core::model::{Labelled, VerificationStatus};

fn main() {
    eprintln!("verivali-server: not built yet (issue 3). Run the core demo instead:");
    eprintln!("    cargo run -p verivali-core --example demo");
    let statuses: Vec<&str> = VerificationStatus::ALL.iter().map(|s| s.code()).collect();
    eprintln!(
        "household statuses the server will report: {}",
        statuses.join(", ")
    );
    std::process::exit(2);
}
