//! Secrets: device tokens (256 random bits) and one-time enrollment codes. The server stores only
//! their sha256; a token is shown once, at enrollment.

use sha2::{Digest, Sha256};

/// A new device token: 32 random bytes as 64 hex digits.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Letters that cannot be misread for one another when read aloud or typed (Crockford base32).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new enrollment code, `XXXX-XXXX` (40 random bits), to be read out or sent by chat.
pub fn new_enrollment_code() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)?;
    let chars: String = bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(b % 32)] as char)
        .collect();
    Ok(format!("{}-{}", &chars[..4], &chars[4..]))
}

/// An enrollment code as typed: upper case, without spaces and dashes, with the letters people
/// confuse for digits mapped back.
pub fn normalise_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_how_people_type_them() {
        let code = new_enrollment_code().unwrap_or_default();
        assert_eq!(code.len(), 9);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(hash(&normalise_code(&typed)), hash(&normalise_code(&code)));
        assert_eq!(normalise_code("ab1o-il23"), "AB101123");
    }

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let (a, b) = (
            new_token().unwrap_or_default(),
            new_token().unwrap_or_default(),
        );
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(hash(&a), a);
    }
}
