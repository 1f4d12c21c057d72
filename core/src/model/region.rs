//! The region list a phone is given (its villages, with names) and what validation asks of it.

use serde::{Deserialize, Serialize};

use super::codes::RegionCode;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
}

/// A region list to check codes against. The phone's store implements it over the regions it
/// was given; validation skips the checks when there is no list.
pub trait RegionLookup {
    /// Whether the code (any level) is in the list.
    fn contains(&self, code: &RegionCode) -> bool;
}

impl RegionLookup for std::collections::BTreeSet<RegionCode> {
    fn contains(&self, code: &RegionCode) -> bool {
        std::collections::BTreeSet::contains(self, code)
    }
}
