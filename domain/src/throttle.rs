//! How often sign-in and sign-up may be tried, so a password cannot be guessed by volume and
//! the password hash (100,000 PBKDF2 rounds a try) cannot be used to burn the worker's CPU.
//!
//! Each limit counts attempts in a fixed window per key (a network address, an email). The
//! worker keeps the counts in D1, one conditional upsert per attempt; what is decided from a
//! count lives here.

/// At most `attempts` in `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What the key counts, for the key's prefix and the message.
    pub name: &'static str,
    pub attempts: u32,
    pub window_ms: i64,
}

const MINUTE_MS: i64 = 60_000;

/// Sign-in attempts from one network address, right or wrong, whatever the emails (a shared
/// office fits well inside it; a guesser spraying many accounts does not).
pub const SIGN_IN_PER_ADDRESS: Limit = Limit {
    name: "sign-in-address",
    attempts: 30,
    window_ms: 15 * MINUTE_MS,
};

/// Tries for one email from one network address: a guesser there stops after 10, and only
/// there (the seller signing in from elsewhere is not locked out by someone else's guesses).
pub const SIGN_IN_PER_EMAIL_AND_ADDRESS: Limit = Limit {
    name: "sign-in-email-address",
    attempts: 10,
    window_ms: 15 * MINUTE_MS,
};

/// Tries for one email from anywhere: the ceiling for guesses spread over many addresses,
/// high enough that a few of them cannot lock a seller out.
pub const SIGN_IN_PER_EMAIL: Limit = Limit {
    name: "sign-in-email",
    attempts: 100,
    window_ms: 15 * MINUTE_MS,
};

/// New accounts from one network address.
pub const SIGN_UP_PER_ADDRESS: Limit = Limit {
    name: "sign-up-address",
    attempts: 10,
    window_ms: 60 * MINUTE_MS,
};

/// The part of a network address one visitor controls: an IPv4 address whole, an IPv6 address
/// by its /64 (one home or server is given a whole /64, so counting single IPv6 addresses
/// would let one visitor rotate past every limit).
pub fn visitor(address: &str) -> String {
    match address.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.trim().to_owned(),
    }
}

impl Limit {
    /// The stored key for `who` (an address or an email), at most 256 characters of it.
    pub fn key(&self, who: &str) -> String {
        let who: String = who.trim().to_lowercase().chars().take(256).collect();
        format!("{}:{who}", self.name)
    }

    /// Whether the attempt that made the count `count` in the window that started at
    /// `window_start` may go ahead; else how many seconds until the window ends.
    pub fn verdict(&self, window_start: i64, count: u32, now: i64) -> Result<(), Wait> {
        if count <= self.attempts {
            return Ok(());
        }
        let left_ms = (window_start + self.window_ms - now).max(1_000);
        Err(Wait {
            retry_after_s: u32::try_from((left_ms + 999) / 1_000).unwrap_or(u32::MAX),
        })
    }
}

/// Too many attempts: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub retry_after_s: u32,
}

impl Wait {
    /// "in 14 minutes", "in 40 seconds", "in 1 second": when the seller may try again.
    pub fn in_words(&self) -> String {
        match self.retry_after_s {
            s if s >= 90 => format!("in {} minutes", s.div_ceil(60)),
            1 => "in 1 second".to_owned(),
            s => format!("in {s} seconds"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_visitor_is_its_slash_64() {
        assert_eq!(
            visitor("2001:db8:1:2:aaaa::1"),
            visitor("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(visitor("2001:db8:1:2::1"), visitor("2001:db8:1:3::1"));
        assert_eq!(visitor(" 203.0.113.7 "), "203.0.113.7");
        assert_eq!(visitor("unknown"), "unknown");
    }

    #[test]
    fn attempts_up_to_the_limit_go_ahead_and_the_next_waits_for_the_window() {
        let limit = SIGN_IN_PER_EMAIL_AND_ADDRESS;
        let start = 1_000_000;
        assert_eq!(limit.verdict(start, 1, start), Ok(()));
        assert_eq!(limit.verdict(start, 10, start + 60_000), Ok(()));
        let wait = limit.verdict(start, 11, start + 60_000).unwrap_err();
        assert_eq!(wait.retry_after_s, 14 * 60);
        assert_eq!(wait.in_words(), "in 14 minutes");
        // At the window's very end the wait is still at least a second.
        let last = limit
            .verdict(start, 11, start + limit.window_ms)
            .unwrap_err();
        assert_eq!(last.retry_after_s, 1);
        assert_eq!(last.in_words(), "in 1 second");
    }

    #[test]
    fn keys_name_the_limit_and_ignore_case() {
        assert_eq!(
            SIGN_IN_PER_EMAIL.key(" Ann@Example.com "),
            "sign-in-email:ann@example.com"
        );
        assert_ne!(
            SIGN_IN_PER_ADDRESS.key("10.0.0.1"),
            SIGN_UP_PER_ADDRESS.key("10.0.0.1")
        );
    }
}
