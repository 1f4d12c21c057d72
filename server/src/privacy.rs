//! Personal data on the way out (UU 27/2022): NIK and family card numbers are masked in what
//! supervisors' screens and exports receive, unless a role that may see them asks, and no
//! decoder's error that reaches a log or an answer quotes what it read.

use serde_json::Value;

/// A decoder's error fit for a log or an answer: serde and its kind quote the value they could
/// not read (an integer in backticks, a string in double quotes), which may be a NIK or a name.
/// Every quoted run becomes `…`; what was expected and where stay. Any other run of 6 digits or
/// more (an unquoted number) becomes `#`.
pub fn without_values(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 6 {
            out.push('#');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        if c == '`' || c == '"' {
            out.push('…');
            for inner in chars.by_ref() {
                if inner == c {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// `3201********0001` for a 16-digit number; stars for anything else.
pub fn mask_number(text: &str) -> String {
    if text.len() == 16 && text.is_ascii() {
        format!("{}********{}", &text[..4], &text[12..])
    } else {
        "*".repeat(text.chars().count().min(16))
    }
}

/// Masks, in a household state as JSON, every member's NIK and the family card number.
pub fn mask_state(state: &mut Value) {
    let Some(household) = state.get_mut("household") else {
        return;
    };
    mask_field(household, "kk_number");
    if let Some(Value::Array(members)) = household.get_mut("members") {
        for member in members {
            if let Some(details) = member.get_mut("details") {
                mask_field(details, "nik");
            }
        }
    }
}

fn mask_field(object: &mut Value, field: &str) {
    if let Some(Value::String(text)) = object.get_mut(field) {
        *text = mask_number(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoders_error_keeps_its_place_and_loses_its_values() {
        let read: Result<Vec<String>, _> = serde_json::from_str(r#"["a", 1604011234560001]"#);
        let text = without_values(&read.unwrap_err());
        assert!(!text.contains("1604011234560001"), "{text}");
        assert!(
            text.contains("expected a string") && text.contains("line 1"),
            "{text}"
        );
        let read: Result<u8, _> = serde_json::from_str(r#""Siti Aminah""#);
        let text = without_values(&read.unwrap_err());
        assert!(!text.contains("Siti"), "{text}");
        assert_eq!(without_values(&"nik 1604011234560001 left"), "nik # left");
    }

    #[test]
    fn numbers_are_masked_in_a_state() {
        let mut state = serde_json::json!({"household": {"kk_number": "1604011503200002",
            "members": [{"details": {"nik": "1604014101900001", "name": "Siti"}}, {"details": {"nik": "12"}}]}});
        mask_state(&mut state);
        assert_eq!(state["household"]["kk_number"], "1604********0002");
        assert_eq!(
            state["household"]["members"][0]["details"]["nik"],
            "1604********0001"
        );
        assert_eq!(state["household"]["members"][1]["details"]["nik"], "**");
        assert_eq!(state["household"]["members"][0]["details"]["name"], "Siti");
    }
}
