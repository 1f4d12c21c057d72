//! What a supervisor may do in their region (issue 14, `docs/roles.md`). Each role holds every
//! power of the roles before it, so a check asks for the least role that may do a thing.

use verivali_core::model::Labelled;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads pages, reports and masked households; decides nothing, exports nothing.
    Viewer,
    /// Also decides: approves, returns, resolves conflicts and duplicates; exports masked lists.
    Reviewer,
    /// Also sees and exports whole NIK and KK numbers.
    DataOfficer,
    /// Also manages users, areas and imports (target lists, phones' bundles).
    Admin,
}

impl Labelled for Role {
    const ALL: &'static [Self] = &[Self::Viewer, Self::Reviewer, Self::DataOfficer, Self::Admin];

    fn code(self) -> &'static str {
        match self {
            Self::Viewer => "VIEWER",
            Self::Reviewer => "REVIEWER",
            Self::DataOfficer => "DATA_OFFICER",
            Self::Admin => "ADMIN",
        }
    }

    fn label_id(self) -> &'static str {
        match self {
            Self::Viewer => "Pemantau",
            Self::Reviewer => "Pemeriksa",
            Self::DataOfficer => "Petugas data",
            Self::Admin => "Admin",
        }
    }

    fn label_en(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Reviewer => "Reviewer",
            Self::DataOfficer => "Data officer",
            Self::Admin => "Admin",
        }
    }
}

impl Role {
    /// Reads a role as the command line spells it (`data-officer`) or as it is stored
    /// (`DATA_OFFICER`).
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_code(&text.trim().to_uppercase().replace('-', "_"))
    }
}

/// A thing a role is needed for: the least role, and the name the audit log gives a refusal.
#[derive(Debug, Clone, Copy)]
pub struct Power {
    pub least: Role,
    pub name: &'static str,
}

impl Power {
    const fn needs(least: Role, name: &'static str) -> Self {
        Self { least, name }
    }
}

/// Approve, return, request a revisit, resolve a conflict, merge or dismiss a duplicate pair.
pub const DECIDE: Power = Power::needs(Role::Reviewer, "decide");
/// Download the region's households (masked unless [`WHOLE_NIK`] too).
pub const EXPORT: Power = Power::needs(Role::Reviewer, "export");
/// See or export whole NIK and KK numbers.
pub const WHOLE_NIK: Power = Power::needs(Role::DataOfficer, "whole-nik");
/// Import a phone's bundle file (and, later, target lists).
pub const IMPORT: Power = Power::needs(Role::Admin, "import");
/// Add enumerators, give, move and take their areas, issue enrollment codes, revoke phones.
pub const MANAGE: Power = Power::needs(Role::Admin, "manage");
/// Read and download the audit log of the region.
pub const AUDIT: Power = Power::needs(Role::Admin, "audit");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_as_typed_or_stored_and_holds_the_powers_before_it() {
        assert_eq!(Role::parse("data-officer"), Some(Role::DataOfficer));
        assert_eq!(Role::parse("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::parse(" viewer "), Some(Role::Viewer));
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Reviewer < WHOLE_NIK.least);
        assert!(Role::DataOfficer >= WHOLE_NIK.least && Role::Admin >= WHOLE_NIK.least);
        assert!(Role::Viewer < DECIDE.least && Role::Reviewer >= EXPORT.least);
        assert!(Role::DataOfficer < IMPORT.least);
    }
}
