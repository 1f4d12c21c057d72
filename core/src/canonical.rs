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
use serde_json::{Map, Number, Value};
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
    let value = serde_json::to_value(value)?;
    let mut out = String::new();
    write_value(&value, &mut out)?;
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
    let mut value = serde_json::to_value(visit)?;
    if let Value::Object(map) = &mut value {
        map.remove("visit_id");
        map.remove("device_id");
    }
    let mut out = String::new();
    write_value(&value, &mut out)?;
    Ok(Sha256::of(out.as_bytes()))
}

fn write_value(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

fn write_object(map: &Map<String, Value>, out: &mut String) -> Result<(), CanonicalError> {
    let mut members: Vec<(Cow<'_, str>, &Value)> = map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (nfc(k), v))
        .collect();
    members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if members.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CanonicalError::DuplicateKey);
    }
    out.push('{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(value, out)?;
    }
    out.push('}');
    Ok(())
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

fn write_number(n: &Number, out: &mut String) {
    use std::fmt::Write;
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        if f.fract() == 0.0 && f.abs() < MAX_EXACT_INTEGER {
            // In range, so the cast is exact, and an integer has no negative zero.
            #[allow(clippy::cast_possible_truncation)]
            let _ = write!(out, "{}", f as i64);
        } else {
            // serde_json prints floats with ryu: the shortest text that reads back the same.
            let _ = write!(out, "{n}");
        }
    }
}

#[cfg(test)]
mod tests;
