//! # verivali-ffi
//!
//! The uniffi facade over `verivali-core` for Kotlin, Swift and Python (DESIGN §10). It holds no
//! logic: it converts the core's types into records the foreign languages understand and forwards
//! calls: [`phone::Phone`] over the store and the sync client, the records it answers with
//! ([`records`]), the form's pick lists, and the validation rule catalogue for the help screen.
//!
//! Bindings are generated from the built library with the in-crate `uniffi-bindgen` binary:
//!
//! ```sh
//! cargo build -p verivali-ffi
//! cargo run -p verivali-ffi --bin uniffi-bindgen -- generate --library \
//!     target/debug/libverivali_ffi.so --language kotlin --out-dir out
//! ```

use verivali_core::model::Labelled;
use verivali_core::validate::rules;

pub mod phone;
pub mod records;

uniffi::setup_scaffolding!();

/// A validation rule, as the phone's help screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuleInfo {
    /// The stable code, e.g. `NIK-03`.
    pub code: String,
    /// `ERROR`, `WARNING` or `INFO`.
    pub severity: String,
    pub severity_label_id: String,
    pub message_id: String,
    pub message_en: String,
}

impl From<&rules::Rule> for RuleInfo {
    fn from(rule: &rules::Rule) -> Self {
        Self {
            code: rule.code.to_owned(),
            severity: rule.severity.code().to_owned(),
            severity_label_id: rule.severity.label_id().to_owned(),
            message_id: rule.message_id.to_owned(),
            message_en: rule.message_en.to_owned(),
        }
    }
}

/// Every validation rule, in catalogue order.
#[uniffi::export]
pub fn validation_rules() -> Vec<RuleInfo> {
    rules::ALL.iter().map(RuleInfo::from).collect()
}

/// The accuracy (metres) above which a GPS point asks for a retake or a reason (VIS-03), for the
/// form to say so as the fix comes in.
#[uniffi::export]
pub fn precise_gps_accuracy_m() -> f64 {
    verivali_core::validate::MAX_GPS_ACCURACY_M
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_crosses_with_codes_and_both_messages() {
        let rules = validation_rules();
        assert_eq!(rules.len(), rules::ALL.len());
        let nik03 = rules
            .iter()
            .find(|r| r.code == "NIK-03")
            .expect("NIK-03 is in the catalogue");
        assert_eq!(nik03.severity, "ERROR");
        assert_eq!(nik03.severity_label_id, "Galat");
        assert!(
            nik03.message_id.contains("Tanggal lahir") && nik03.message_en.contains("Birth date")
        );
    }
}
