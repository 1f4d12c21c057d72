//! Personal data on the way out (UU 27/2022): NIK and family card numbers are masked in what
//! supervisors' screens and exports receive, unless a role that may see them asks.

use serde_json::Value;

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
