//! The data model (DESIGN §3): English identifiers on the wire, Indonesian labels on screen.

mod codes;
mod enums;
mod household;
mod ids;
mod labels;
mod region;
mod review;
mod visit;

pub use codes::{
    Code, Entered, KkError, KkNumber, NeighbourhoodError, Nik, NikError, PROVINCES, ParseError,
    RegionCode, RegionCodeError, RegionLevel, Rt, Rw, is_province_code,
};
pub use enums::*;
pub use household::{Household, Member, MemberDetails};
pub use ids::{
    DeviceId, EnumeratorId, HouseholdId, MemberId, ReviewId, Sha256, Sha256Error, Timestamp,
    UserId, VisitId, hex,
};
pub use labels::Labelled;
pub(crate) use labels::labelled_enum;
pub use region::{Region, RegionLookup};
pub use review::Review;
pub use visit::{HouseholdProposal, Housing, Location, MemberChange, Photo, Visit, Welfare};
