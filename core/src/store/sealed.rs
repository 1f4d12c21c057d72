//! Encryption at rest (docs/phone-encryption.md). Every stored value that names or describes a
//! person — states, visit bodies, answers, reviews, photos, the device token — is sealed with
//! XChaCha20-Poly1305 under a key the app supplies (on Android, kept wrapped by the Keystore).
//! Ids, region codes, RW/RT, statuses and hashes stay clear, so SQLite still indexes them; a NIK
//! is found through a keyed hash of it, never the NIK itself.
//!
//! Each value is bound to its place (table, column, row) as associated data, so a sealed value
//! copied onto another row does not open there.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Error, Result};
use crate::model::{Code, Nik};

/// The first byte of every sealed value: the layout, so that a later one can be told apart.
const LAYOUT: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 32 bytes that unlock a phone's store. The app makes them once (random), keeps them wrapped
/// by the platform's key store, and hands them to [`super::Store::open`]; the store never writes
/// them anywhere.
#[derive(Clone)]
pub struct StoreKey([u8; StoreKey::LEN]);

impl StoreKey {
    pub const LEN: usize = 32;

    /// A key from the app's bytes: exactly [`Self::LEN`] of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key = <[u8; Self::LEN]>::try_from(bytes).map_err(|_| Error::BadKey {
            length: bytes.len(),
        })?;
        Ok(Self(key))
    }

    pub const fn from_array(key: [u8; Self::LEN]) -> Self {
        Self(key)
    }

    /// A new random key, for a phone's first start.
    pub fn generate() -> Result<Self> {
        let mut key = [0; Self::LEN];
        getrandom::fill(&mut key).map_err(|_| Error::NoRandomness)?;
        Ok(Self(key))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

/// Seals and opens stored values, and gives the keyed hash of a NIK for lookups. Two keys are
/// derived from the app's, so the lookup hash reveals nothing of the sealing key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    lookup: Hmac<sha2::Sha256>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

fn derive(key: &StoreKey, purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl Sealer {
    pub fn new(key: &StoreKey) -> Self {
        let seal_key = derive(key, b"verivali/phone-store/seal/1");
        let lookup_key = derive(key, b"verivali/phone-store/lookup/1");
        Self {
            cipher: XChaCha20Poly1305::new(&seal_key.into()),
            lookup: <Hmac<sha2::Sha256> as Mac>::new_from_slice(&lookup_key)
                .expect("HMAC takes a key of any length"),
        }
    }

    /// `plain` sealed for its place: `column` (such as `visits.body`) of the row keyed `row`.
    /// Layout byte, random nonce, ciphertext with its tag.
    pub fn seal(&self, column: &str, row: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| Error::NoRandomness)?;
        let place = format!("{column}/{row}");
        let payload = Payload {
            msg: plain,
            aad: place.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| Error::NoRandomness)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(LAYOUT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain bytes of a value sealed for this place. A value sealed under another key or for
    /// another place, or changed, is unreadable `column`.
    pub fn open(&self, column: &'static str, row: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let unreadable = Error::Unreadable { what: column };
        let Some((&LAYOUT, rest)) = sealed.split_first() else {
            return Err(unreadable);
        };
        if rest.len() < NONCE_LEN {
            return Err(unreadable);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let place = format!("{column}/{row}");
        let payload = Payload {
            msg: ciphertext,
            aad: place.as_bytes(),
        };
        self.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| unreadable)
    }

    pub fn open_text(&self, column: &'static str, row: &str, sealed: &[u8]) -> Result<String> {
        String::from_utf8(self.open(column, row, sealed)?)
            .map_err(|_| Error::Unreadable { what: column })
    }

    pub fn seal_json<T: Serialize + ?Sized>(
        &self,
        column: &str,
        row: &str,
        value: &T,
    ) -> Result<Vec<u8>> {
        self.seal(column, row, &serde_json::to_vec(value)?)
    }

    pub fn open_json<T: DeserializeOwned>(
        &self,
        column: &'static str,
        row: &str,
        sealed: &[u8],
    ) -> Result<T> {
        Ok(serde_json::from_slice(&self.open(column, row, sealed)?)?)
    }

    /// The keyed hash a NIK is looked up by (16 bytes): equal NIKs give equal hashes, and
    /// without the key no NIK can be tried against them.
    pub fn nik_lookup(&self, nik: &Nik) -> Vec<u8> {
        let mut mac = self.lookup.clone();
        mac.update(nik.as_str().as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> StoreKey {
        StoreKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_value_opens_with_its_key_at_its_place_only() {
        let sealer = Sealer::new(&key(1));
        let sealed = sealer.seal("visits.body", "a", b"Siti Aminah").unwrap();
        assert_eq!(
            sealer.open("visits.body", "a", &sealed).unwrap(),
            b"Siti Aminah"
        );
        let unreadable = |r: Result<Vec<u8>>| {
            matches!(
                r,
                Err(Error::Unreadable {
                    what: "visits.body"
                })
            )
        };
        assert!(
            unreadable(sealer.open("visits.body", "b", &sealed)),
            "moved row"
        );
        assert!(unreadable(Sealer::new(&key(2)).open(
            "visits.body",
            "a",
            &sealed
        )));
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(unreadable(sealer.open("visits.body", "a", &changed)));
        assert!(unreadable(sealer.open("visits.body", "a", &[])));
        assert!(unreadable(sealer.open("visits.body", "a", &[1, 2, 3])));
        let again = sealer.seal("visits.body", "a", b"Siti Aminah").unwrap();
        assert_ne!(again, sealed, "a fresh nonce each time");
    }

    #[test]
    fn a_key_is_exactly_32_bytes() {
        assert!(matches!(
            StoreKey::from_bytes(&[0; 16]),
            Err(Error::BadKey { length: 16 })
        ));
        assert_eq!(format!("{:?}", key(9)), "StoreKey(…)");
    }
}
