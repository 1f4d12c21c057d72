//! Identifiers: UUID newtypes, so that a visit id can never be passed where a household id is
//! expected, plus the sha256 content hash and the timestamp type.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

macro_rules! uuid_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }
    )+};
}

uuid_id! {
    /// Verivali's own household id; the source's id is kept beside it.
    HouseholdId;
    MemberId;
    /// Made on the phone as a UUIDv7 (time-ordered): the idempotent key of a visit.
    VisitId;
    /// Made at enrollment.
    DeviceId;
    EnumeratorId;
    ReviewId;
    /// A supervisor or admin.
    UserId;
}

impl VisitId {
    pub fn new_v7() -> Self {
        Self(Uuid::now_v7())
    }
}

impl HouseholdId {
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }
}

impl MemberId {
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }
}

impl DeviceId {
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }
}

/// A sha256 digest as 64 lower-case hex digits: the name of an attachment and the content hash
/// of a visit or a household state.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sha256 must be 64 lower-case hex digits")]
pub struct Sha256Error;

impl Sha256 {
    pub fn parse(s: &str) -> Result<Self, Sha256Error> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Sha256Error)
        }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(hex(&sha2::Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", &self.0)
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Sha256::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Bytes as lower-case hex. By table: every visit and state hash goes through here, and the
/// formatting machinery showed in profiles.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A moment with the offset the phone had (RFC 3339 on the wire, e.g. `2026-11-21T09:30:00+07:00`).
/// Ordering and equality compare the instant, whatever the offsets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(#[serde(with = "time::serde::rfc3339")] pub OffsetDateTime);

impl Timestamp {
    /// Now, in UTC, to whole milliseconds (the precision every platform keeps).
    pub fn now_utc() -> Self {
        Self::from_unix_millis(
            i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX),
        )
    }

    pub fn from_unix_millis(millis: i64) -> Self {
        let nanos = i128::from(millis) * 1_000_000;
        Self(OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH))
    }

    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    pub fn parse(s: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(s, &Rfc3339).map(Self)
    }

    /// The same instant in UTC, to whole milliseconds: the one form a time takes once it leaves
    /// the phone's own record (stored, merged, hashed), so that `09:04+07:00` and `02:04Z` are
    /// one value everywhere.
    pub fn normalized(&self) -> Self {
        Self::from_unix_millis(self.unix_millis())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => write!(f, "Timestamp({s})"),
            Err(_) => write!(f, "Timestamp({})", self.0),
        }
    }
}
