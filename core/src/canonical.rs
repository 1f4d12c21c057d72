//! Canonical JSON and sha256 content hashes (DESIGN §5).
//!
//! The form, fixed by golden vectors in the tests and never to change:
//! - object keys sorted by their UTF-8 bytes, no whitespace anywhere;
//! - strings (keys too) in Unicode NFC, escaped as serde_json escapes them (`\"`, `\\`, `\n`,
//!   `\u001f`, …; nothing else, so non-ASCII stays as UTF-8);
//! - an object member whose value is `null` is left out, so an absent optional field and a `null`
//!   hash alike (new optional fields in later versions leave old hashes unchanged);
//! - integers in plain decimal; a float with no fractional part below 2^53 as an integer
//!   (`5.0` → `5`, `-0.0` → `0`); other floats in the shortest form that reads back to the same
//!   value (`0.1`, `1e-7`). Non-finite numbers cannot occur (JSON has none).
//!
//! The form is written here rather than taken from an RFC 8785 crate because we also normalise
//! Unicode and drop nulls, and because an upgrade of a dependency must never change a hash.

use serde::Serialize;
use serde_json::Number;
use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::model::{Sha256, Visit};

#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("value cannot be represented as JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("two keys are equal after Unicode normalisation")]
    DuplicateKey,
}

/// The canonical JSON text of any serialisable value.
pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
    let mut out = String::new();
    writer::write(value, &[], &mut out)?;
    Ok(out)
}

/// The sha256 of the canonical JSON of `value`.
pub fn hash_of<T: Serialize + ?Sized>(value: &T) -> Result<Sha256, CanonicalError> {
    Ok(Sha256::of(to_canonical_json(value)?.as_bytes()))
}

/// A visit's content hash: what the enumerator recorded, in canonical JSON, without the ids the
/// software gave it (`visit_id`, `device_id`). Two visits with one content hash are the same
/// visit (`docs/merge.md`): a double-tapped "finish", or a phone reinstalled or restored that
/// sends its visits again under new ids. Transport fields such as `device_seq` are not part of
/// [`Visit`] at all.
pub fn visit_content_hash(visit: &Visit) -> Result<Sha256, CanonicalError> {
    let mut out = String::new();
    writer::write(visit, &["visit_id", "device_id"], &mut out)?;
    Ok(Sha256::of(out.as_bytes()))
}

/// A JSON string as serde_json escapes it: `"` and `\\`, the five control characters with a short
/// escape, every other one below U+0020 as `\u00xx`; nothing else. Written here to spare a
/// `String` per string: canonical text was a seventh of the server's time at ingest.
fn write_string(s: &str, out: &mut String) {
    let s = nfc(s);
    out.push('"');
    let mut plain = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// The NFC form of `s`, without copying when it already is (always so for ASCII, which almost
/// every key and value is).
fn nfc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// Largest integer a double holds exactly.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A float as `serde_json::to_value` leaves it: `null` if it is not finite (JSON has no such
/// number), an integer if it is one, else the shortest text that reads back the same (ryu).
fn write_float(f: f64, out: &mut String) {
    use std::fmt::Write;
    if !f.is_finite() {
        out.push_str("null");
    } else if f.fract() == 0.0 && f.abs() < MAX_EXACT_INTEGER {
        // In range, so the cast is exact, and an integer has no negative zero.
        #[allow(clippy::cast_possible_truncation)]
        let _ = write!(out, "{}", f as i64);
    } else if let Some(n) = Number::from_f64(f) {
        let _ = write!(out, "{n}");
    }
}

mod writer;

#[cfg(test)]
mod tests;
