//! Secrets at rest: password hashes, session tokens and API keys.
//!
//! The worker does the slow part (PBKDF2 through the platform's WebCrypto, which is native and
//! fits Workers' CPU limits) and the randomness; this module owns the formats, the hashing of
//! tokens and the constant-time comparisons.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// PBKDF2-HMAC-SHA256 iterations for new password hashes. 100,000 is the most Workers'
/// WebCrypto allows; stored hashes carry their own count, so it can change later.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// Prefix of every API key, so a leaked key is recognisable (and greppable by secret scanners).
pub const API_KEY_PREFIX: &str = "tally_";

/// A stored password hash: `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url), or
/// `pbkdf2-sha256-pepper$…` when the password went through [`peppered`] first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
    /// Hashed from [`peppered`]`(pepper, password)` rather than the password itself.
    pub peppered: bool,
}

const PLAIN: &str = "pbkdf2-sha256";
const PEPPERED: &str = "pbkdf2-sha256-pepper";

/// What PBKDF2 is given for a password under the worker's pepper (a secret kept apart from the
/// database): HMAC-SHA256 keyed with the pepper, so a stolen table alone cannot be guessed at.
pub fn peppered(pepper: &[u8], password: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper).expect("HMAC takes any key");
    mac.update(password.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

impl PasswordHash {
    /// The stored form.
    pub fn encode(&self) -> String {
        format!(
            "{}${}${}${}",
            if self.peppered { PEPPERED } else { PLAIN },
            self.iterations,
            URL_SAFE_NO_PAD.encode(&self.salt),
            URL_SAFE_NO_PAD.encode(&self.hash)
        )
    }

    /// Reads the stored form; `None` if it is not one we wrote.
    pub fn decode(stored: &str) -> Option<Self> {
        let mut parts = stored.split('$');
        let peppered = match parts.next()? {
            PLAIN => false,
            PEPPERED => true,
            _ => return None,
        };
        let iterations = parts.next()?.parse().ok()?;
        let salt = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        let hash = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() || hash.is_empty() || salt.is_empty() {
            return None;
        }
        Some(Self {
            iterations,
            salt,
            hash,
            peppered,
        })
    }

    /// Whether `derived` (PBKDF2 of the typed password with this salt and count) matches, in
    /// constant time.
    pub fn matches(&self, derived: &[u8]) -> bool {
        self.hash.ct_eq(derived).into()
    }
}

/// Whether a secret as given equals the expected one, in time that does not depend on where
/// they differ. An empty expected secret matches nothing.
pub fn same_secret(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && Sha256::digest(given.as_bytes())
            .ct_eq(&Sha256::digest(expected.as_bytes()))
            .into()
}

/// A random token as text (base64url of the bytes).
pub fn token_text(random: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// A new API key from 32 random bytes: `tally_<base64url>`.
pub fn api_key_text(random: &[u8; 32]) -> String {
    format!("{API_KEY_PREFIX}{}", token_text(random))
}

/// The SHA-256 (hex) under which a token or key is stored and looked up. Tokens are 256-bit
/// random, so a fast hash is enough: there is nothing to brute-force.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first characters of a key, shown in lists so a seller can tell keys apart.
pub fn key_hint(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 6).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_round_trips_through_its_stored_form() {
        let h = PasswordHash {
            iterations: PBKDF2_ITERATIONS,
            salt: vec![1, 2, 3, 4],
            hash: vec![9; 32],
            peppered: false,
        };
        let stored = h.encode();
        assert!(stored.starts_with("pbkdf2-sha256$100000$"));
        assert_eq!(PasswordHash::decode(&stored), Some(h.clone()));
        let p = PasswordHash {
            peppered: true,
            ..h
        };
        let stored = p.encode();
        assert!(stored.starts_with("pbkdf2-sha256-pepper$100000$"));
        assert_eq!(PasswordHash::decode(&stored), Some(p));
    }

    #[test]
    fn secrets_match_only_whole_and_never_empty() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("s3cret!", "s3cret"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn the_pepper_changes_what_is_hashed() {
        let one = peppered(b"pepper one", "hunter2 hunter2");
        assert_eq!(one.len(), 32);
        assert_ne!(one, peppered(b"pepper two", "hunter2 hunter2"));
        assert_ne!(one, peppered(b"pepper one", "hunter3 hunter3"));
        assert_eq!(one, peppered(b"pepper one", "hunter2 hunter2"));
    }

    #[test]
    fn foreign_or_damaged_hashes_are_not_read() {
        for bad in [
            "",
            "md5$1$a$b",
            "pbkdf2-sha256$x$AQ$AQ",
            "pbkdf2-sha256$1$$AQ",
            "pbkdf2-sha256$1$AQ$AQ$x",
        ] {
            assert_eq!(PasswordHash::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn matching_compares_the_whole_hash() {
        let h = PasswordHash {
            iterations: 1,
            salt: vec![1],
            hash: vec![1, 2, 3],
            peppered: false,
        };
        assert!(h.matches(&[1, 2, 3]));
        assert!(!h.matches(&[1, 2, 4]));
        assert!(!h.matches(&[1, 2]));
    }

    #[test]
    fn api_keys_are_prefixed_and_stored_by_digest() {
        let key = api_key_text(&[7; 32]);
        assert!(key.starts_with("tally_"));
        assert_eq!(key.len(), 6 + 43);
        let digest = token_digest(&key);
        assert_eq!(digest.len(), 64);
        assert_ne!(digest, token_digest("tally_other"));
        assert_eq!(key_hint(&key), key[..12]);
    }

    #[test]
    fn the_digest_is_sha256() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
