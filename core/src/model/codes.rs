//! Identifiers with a structure of their own: NIK, family card number (No. KK), Kemendagri region
//! code and RT/RW. Each is a newtype whose `parse` returns a typed error pointing at its rule
//! (domain.md §4, §10); once parsed, a value is valid everywhere.
//!
//! A NIK is personal data (UU 27/2022): `Debug` masks it, and there is no `Display`, so that it
//! cannot slip into a log line by accident. Use [`Nik::as_str`] where the full number is needed
//! and [`Nik::masked`] where it is shown.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::validate::rules::{self, Rule};

/// The 38 provinces (Kepmendagri 300.2.2-2138/2025): code and name.
pub const PROVINCES: [(&str, &str); 38] = [
    ("11", "Aceh"),
    ("12", "Sumatera Utara"),
    ("13", "Sumatera Barat"),
    ("14", "Riau"),
    ("15", "Jambi"),
    ("16", "Sumatera Selatan"),
    ("17", "Bengkulu"),
    ("18", "Lampung"),
    ("19", "Kepulauan Bangka Belitung"),
    ("21", "Kepulauan Riau"),
    ("31", "Daerah Khusus Ibukota Jakarta"),
    ("32", "Jawa Barat"),
    ("33", "Jawa Tengah"),
    ("34", "Daerah Istimewa Yogyakarta"),
    ("35", "Jawa Timur"),
    ("36", "Banten"),
    ("51", "Bali"),
    ("52", "Nusa Tenggara Barat"),
    ("53", "Nusa Tenggara Timur"),
    ("61", "Kalimantan Barat"),
    ("62", "Kalimantan Tengah"),
    ("63", "Kalimantan Selatan"),
    ("64", "Kalimantan Timur"),
    ("65", "Kalimantan Utara"),
    ("71", "Sulawesi Utara"),
    ("72", "Sulawesi Tengah"),
    ("73", "Sulawesi Selatan"),
    ("74", "Sulawesi Tenggara"),
    ("75", "Gorontalo"),
    ("76", "Sulawesi Barat"),
    ("81", "Maluku"),
    ("82", "Maluku Utara"),
    ("91", "Papua"),
    ("92", "Papua Barat"),
    ("93", "Papua Selatan"),
    ("94", "Papua Tengah"),
    ("95", "Papua Pegunungan"),
    ("96", "Papua Barat Daya"),
];

/// Whether two digits are one of the 38 province codes.
pub fn is_province_code(code: &str) -> bool {
    PROVINCES.iter().any(|(c, _)| *c == code)
}

/// A type that is parsed from text typed or imported, and written back as its canonical text.
pub trait Code: Sized {
    type Error: ParseError;
    fn parse(input: &str) -> Result<Self, Self::Error>;
    /// The canonical text form, as stored and sent.
    fn as_str(&self) -> &str;
}

/// A parse failure knows the validation rule it breaks.
pub trait ParseError: std::error::Error {
    fn rule(&self) -> &'static Rule;
}

/// Keeps only digits, dropping the spaces, dots and dashes people type between groups.
fn digits_only(input: &str) -> Option<String> {
    let mut out = String::with_capacity(16);
    for c in input.trim().chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '.' | '-' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Two ASCII digits at `at` as a number.
fn two_digits(s: &str, at: usize) -> u8 {
    s.as_bytes()[at..at + 2]
        .iter()
        .fold(0, |n, b| n * 10 + (b - b'0'))
}

/// The real calendar date for day, month and two-digit year, in the 1900s or 2000s, preferring
/// the latest that is not after `today` (a NIK holder born in "25" is born in 1925 if it is 2024).
fn date_from_ddmmyy(day: u8, month: u8, yy: u8, today: Option<Date>) -> Option<Date> {
    let month = Month::try_from(month).ok()?;
    let candidates = [2000 + i32::from(yy), 1900 + i32::from(yy)];
    let mut valid = candidates
        .iter()
        .filter_map(|y| Date::from_calendar_date(*y, month, day).ok());
    match today {
        Some(today) => valid.find(|d| *d <= today),
        None => valid.next(),
    }
}

// ---------------------------------------------------------------------------------------------
// NIK

/// Nomor Induk Kependudukan: `PP KK CC DD MM YY SSSS`, 16 digits. There is no checksum; the
/// structure is all that can be checked.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK-01: NIK must be exactly 16 digits")]
    NotSixteenDigits,
    #[error("NIK-02: unknown province code in NIK")]
    UnknownProvince,
    #[error("NIK-03: birth date in NIK is invalid")]
    InvalidBirthDate,
    #[error("NIK-04: NIK serial cannot be 0000")]
    ZeroSerial,
}

impl ParseError for NikError {
    fn rule(&self) -> &'static Rule {
        match self {
            Self::NotSixteenDigits => &rules::NIK_01,
            Self::UnknownProvince => &rules::NIK_02,
            Self::InvalidBirthDate => &rules::NIK_03,
            Self::ZeroSerial => &rules::NIK_04,
        }
    }
}

impl Nik {
    /// The sex the NIK encodes: women have 40 added to the day of birth.
    pub fn sex(&self) -> super::Sex {
        if two_digits(&self.0, 6) > 40 {
            super::Sex::Female
        } else {
            super::Sex::Male
        }
    }

    /// The birth date the NIK encodes, in the century that puts it on or before `today`.
    pub fn birth_date(&self, today: Date) -> Option<Date> {
        let day = two_digits(&self.0, 6) % 40;
        date_from_ddmmyy(
            day,
            two_digits(&self.0, 8),
            two_digits(&self.0, 10),
            Some(today),
        )
    }

    /// Province, regency and district of first registration (`PP.KK.CC`), which may be an old code.
    pub fn region_prefix(&self) -> &str {
        &self.0[..6]
    }

    /// For screens and exports: only the first 4 and last 4 digits.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..4], &self.0[12..])
    }
}

impl Code for Nik {
    type Error = NikError;

    fn parse(input: &str) -> Result<Self, NikError> {
        let digits = digits_only(input).ok_or(NikError::NotSixteenDigits)?;
        if digits.len() != 16 {
            return Err(NikError::NotSixteenDigits);
        }
        if !is_province_code(&digits[..2]) {
            return Err(NikError::UnknownProvince);
        }
        let day = two_digits(&digits, 6);
        let day_ok = (1..=31).contains(&day) || (41..=71).contains(&day);
        if !day_ok
            || date_from_ddmmyy(
                day % 40,
                two_digits(&digits, 8),
                two_digits(&digits, 10),
                None,
            )
            .is_none()
        {
            return Err(NikError::InvalidBirthDate);
        }
        if &digits[12..] == "0000" {
            return Err(NikError::ZeroSerial);
        }
        Ok(Self(digits))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

// ---------------------------------------------------------------------------------------------
// No. KK

/// Nomor Kartu Keluarga: 6-digit region of issue, 6-digit recording date `ddmmyy` (no +40) and
/// a 4-digit serial. Never the source's family id (`ID Keluarga P3KE`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KkNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KkError {
    #[error("KK-01: family card number must be 16 digits")]
    NotSixteenDigits,
    #[error("KK-02: unknown province code in family card number")]
    UnknownProvince,
    #[error("KK-02: digits 7-12 of the family card number are not a date")]
    InvalidRecordingDate,
    #[error("KK-02: family card serial cannot be 0000")]
    ZeroSerial,
}

impl ParseError for KkError {
    fn rule(&self) -> &'static Rule {
        match self {
            Self::NotSixteenDigits => &rules::KK_01,
            Self::UnknownProvince | Self::InvalidRecordingDate | Self::ZeroSerial => &rules::KK_02,
        }
    }
}

impl KkNumber {
    /// The recording date, in the century that puts it on or before `today`; `None` if it would
    /// lie in the future in both.
    pub fn recording_date(&self, today: Date) -> Option<Date> {
        let (d, m, y) = (
            two_digits(&self.0, 6),
            two_digits(&self.0, 8),
            two_digits(&self.0, 10),
        );
        date_from_ddmmyy(d, m, y, Some(today))
    }

    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..4], &self.0[12..])
    }
}

impl Code for KkNumber {
    type Error = KkError;

    fn parse(input: &str) -> Result<Self, KkError> {
        let digits = digits_only(input).ok_or(KkError::NotSixteenDigits)?;
        if digits.len() != 16 {
            return Err(KkError::NotSixteenDigits);
        }
        if !is_province_code(&digits[..2]) {
            return Err(KkError::UnknownProvince);
        }
        let (d, m, y) = (
            two_digits(&digits, 6),
            two_digits(&digits, 8),
            two_digits(&digits, 10),
        );
        if date_from_ddmmyy(d, m, y, None).is_none() {
            return Err(KkError::InvalidRecordingDate);
        }
        if &digits[12..] == "0000" {
            return Err(KkError::ZeroSerial);
        }
        Ok(Self(digits))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KkNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KkNumber({})", self.masked())
    }
}

// ---------------------------------------------------------------------------------------------
// Region code

/// The level of a Kemendagri region code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionLevel {
    /// `PP`
    Province,
    /// `PP.KK` (kabupaten 01–69, kota 71–99)
    Regency,
    /// `PP.KK.CC` (kecamatan)
    District,
    /// `PP.KK.CC.DDDD` (desa / kelurahan)
    Village,
}

/// A Kemendagri region code, kept in its dotted form (`16.04.01.2001`). Accepts the undotted
/// form of P3KE files (`1604012001`) too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("REG-03: region code must look like PP.KK.CC.DDDD")]
    Malformed,
    #[error("REG-03: unknown province code")]
    UnknownProvince,
}

impl ParseError for RegionCodeError {
    fn rule(&self) -> &'static Rule {
        &rules::REG_03
    }
}

const LEVEL_WIDTHS: [usize; 4] = [2, 2, 2, 4];

impl RegionCode {
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            2 => RegionLevel::Province,
            5 => RegionLevel::Regency,
            8 => RegionLevel::District,
            _ => RegionLevel::Village,
        }
    }

    /// The code of the enclosing region at `level`, if this code is at or below it.
    pub fn ancestor(&self, level: RegionLevel) -> Option<RegionCode> {
        let len = match level {
            RegionLevel::Province => 2,
            RegionLevel::Regency => 5,
            RegionLevel::District => 8,
            RegionLevel::Village => 13,
        };
        (self.0.len() >= len).then(|| RegionCode(self.0[..len].to_owned()))
    }

    /// Whether `other` lies inside this region (or is this region).
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
            && (other.0.len() == self.0.len() || other.0.as_bytes()[self.0.len()] == b'.')
    }

    /// The digits without dots, as P3KE files write them.
    pub fn undotted(&self) -> String {
        self.0.replace('.', "")
    }
}

impl Code for RegionCode {
    type Error = RegionCodeError;

    fn parse(input: &str) -> Result<Self, RegionCodeError> {
        let input = input.trim();
        let parts: Vec<&str> = if input.contains('.') {
            input.split('.').collect()
        } else {
            // Undotted: cut at the level widths.
            let mut parts = Vec::new();
            let mut rest = input;
            for width in LEVEL_WIDTHS {
                if rest.is_empty() {
                    break;
                }
                if rest.len() < width || !rest.is_char_boundary(width) {
                    return Err(RegionCodeError::Malformed);
                }
                let (head, tail) = rest.split_at(width);
                parts.push(head);
                rest = tail;
            }
            if !rest.is_empty() {
                return Err(RegionCodeError::Malformed);
            }
            parts
        };
        if parts.is_empty() || parts.len() > LEVEL_WIDTHS.len() {
            return Err(RegionCodeError::Malformed);
        }
        for (part, width) in parts.iter().zip(LEVEL_WIDTHS) {
            if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RegionCodeError::Malformed);
            }
            if part.bytes().all(|b| b == b'0') {
                return Err(RegionCodeError::Malformed);
            }
        }
        if !is_province_code(parts[0]) {
            return Err(RegionCodeError::UnknownProvince);
        }
        Ok(Self(parts.join(".")))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// RT / RW

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("REG-02: RT and RW must be numbers 1-999")]
pub struct NeighbourhoodError;

impl ParseError for NeighbourhoodError {
    fn rule(&self) -> &'static Rule {
        &rules::REG_02
    }
}

/// Declares RT and RW: a number 1–999, written with three digits (`007`).
macro_rules! neighbourhood_number {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn number(&self) -> u16 {
                self.0.parse().unwrap_or_default()
            }
            pub fn new(number: u16) -> Result<Self, NeighbourhoodError> {
                if (1..=999).contains(&number) {
                    Ok(Self(format!("{number:03}")))
                } else {
                    Err(NeighbourhoodError)
                }
            }
        }

        impl Code for $name {
            type Error = NeighbourhoodError;
            fn parse(input: &str) -> Result<Self, NeighbourhoodError> {
                let input = input.trim();
                if input.is_empty() || input.len() > 3 || !input.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(NeighbourhoodError);
                }
                Self::new(input.parse().map_err(|_| NeighbourhoodError)?)
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

neighbourhood_number!(
    /// Rukun Tetangga, the smallest neighbourhood unit.
    Rt
);
neighbourhood_number!(
    /// Rukun Warga, a group of RTs.
    Rw
);

// ---------------------------------------------------------------------------------------------
// Serde: every code travels as its canonical text, and is parsed on the way in.

macro_rules! code_serde {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t as Code>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )+};
}
code_serde!(Nik, KkNumber, RegionCode, Rt, Rw);

// ---------------------------------------------------------------------------------------------
// What a person typed

/// A value as the enumerator (or a source file) entered it: parsed if it parses, otherwise the
/// text exactly as typed, so that a draft never loses input. Validation reports every `Invalid`
/// with its rule; a visit cannot be finished while one remains.
#[derive(Clone, PartialEq, Eq)]
pub enum Entered<T> {
    Valid(T),
    Invalid(String),
}

impl<T: Code> Entered<T> {
    pub fn from_input(input: &str) -> Self {
        match T::parse(input) {
            Ok(v) => Self::Valid(v),
            Err(_) => Self::Invalid(input.to_owned()),
        }
    }

    pub fn valid(&self) -> Option<&T> {
        match self {
            Self::Valid(v) => Some(v),
            Self::Invalid(_) => None,
        }
    }

    /// The rule an invalid value breaks.
    pub fn problem(&self) -> Option<&'static Rule> {
        match self {
            Self::Valid(_) => None,
            Self::Invalid(raw) => T::parse(raw).err().map(|e| e.rule()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Valid(v) => v.as_str(),
            Self::Invalid(raw) => raw,
        }
    }
}

impl<T> From<T> for Entered<T> {
    fn from(v: T) -> Self {
        Self::Valid(v)
    }
}

impl<T: fmt::Debug> fmt::Debug for Entered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Valid(v) => v.fmt(f),
            // The raw text may be a mistyped NIK: show only its length.
            Self::Invalid(raw) => write!(f, "Invalid({} chars)", raw.chars().count()),
        }
    }
}

impl<T: Code> Serialize for Entered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de, T: Code> Deserialize<'de> for Entered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_input(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests;
