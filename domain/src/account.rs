//! Accounts, the people who sign in to them, and the plan that decides subscriber features.

use serde::{Deserialize, Serialize};

/// The longest email address we store (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// The shortest password we accept. Length beats composition rules.
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest password we hash (a bound on work per sign-in, well past any passphrase).
pub const MAX_PASSWORD_LEN: usize = 128;

/// What is wrong with a sign-up or sign-in field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("enter an email address such as you@example.com")]
    BadEmail,
    #[error("the email address is over {MAX_EMAIL_LEN} characters")]
    EmailTooLong,
    #[error("use a password of at least {MIN_PASSWORD_LEN} characters")]
    PasswordTooShort,
    #[error("use a password of at most {MAX_PASSWORD_LEN} characters")]
    PasswordTooLong,
}

/// An email address, trimmed and lower-cased so sign-in is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` shapes; the real check is that mail arrives.
    pub fn parse(raw: &str) -> Result<Self, CredentialError> {
        let email = raw.trim().to_lowercase();
        if email.chars().count() > MAX_EMAIL_LEN {
            return Err(CredentialError::EmailTooLong);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(CredentialError::BadEmail);
        };
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if plausible {
            Ok(Self(email))
        } else {
            Err(CredentialError::BadEmail)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password's length (in characters, so passphrases in any script count fairly).
pub fn check_new_password(password: &str) -> Result<(), CredentialError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        Err(CredentialError::PasswordTooShort)
    } else if len > MAX_PASSWORD_LEN {
        Err(CredentialError::PasswordTooLong)
    } else {
        Ok(())
    }
}

/// An account's plan. Auto Sync Rules are a subscriber feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Subscriber,
}

impl Plan {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Subscriber => "subscriber",
        }
    }

    /// Parses the stored name; anything unknown is treated as free (never grants a feature).
    pub fn from_stored(s: &str) -> Self {
        if s == "subscriber" {
            Plan::Subscriber
        } else {
            Plan::Free
        }
    }
}

/// Where to go after signing in: `next` when it is a path on this site, else the inventory.
/// Browsers read `//host`, `/\host` and a path with a tab or newline in it (which they
/// strip) as another site, so those fall back too: a link cannot send a seller elsewhere.
pub fn after_sign_in(next: Option<&str>) -> &str {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
    .unwrap_or("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ann@Shop.Example ").unwrap().as_str(),
            "ann@shop.example"
        );
    }

    #[test]
    fn implausible_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@shop.com",
            "ann@shop",
            "ann@.com",
            "a b@shop.com",
            "a@b@c.com",
        ] {
            assert_eq!(Email::parse(bad), Err(CredentialError::BadEmail), "{bad:?}");
        }
        let long = format!("{}@shop.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(CredentialError::EmailTooLong));
    }

    #[test]
    fn passwords_need_ten_to_128_characters() {
        assert_eq!(
            check_new_password("short"),
            Err(CredentialError::PasswordTooShort)
        );
        assert!(check_new_password("correct horse").is_ok());
        assert!(check_new_password(&"ü".repeat(10)).is_ok());
        assert_eq!(
            check_new_password(&"x".repeat(129)),
            Err(CredentialError::PasswordTooLong)
        );
    }

    #[test]
    fn unknown_plans_grant_nothing() {
        assert_eq!(Plan::from_stored("subscriber"), Plan::Subscriber);
        assert_eq!(Plan::from_stored("gold"), Plan::Free);
    }

    #[test]
    fn after_sign_in_goes_only_to_paths_on_this_site() {
        for own in ["/", "/products/12?tab=details", "/storefronts#incoming"] {
            assert_eq!(after_sign_in(Some(own)), own);
        }
        for elsewhere in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(after_sign_in(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(after_sign_in(None), "/");
    }
}
