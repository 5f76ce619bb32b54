//! Where a seller's credential may be sent. A connection's credential goes to its API address
//! (and a renewal to its token address) and nowhere else, so these addresses are checked
//! before they are saved and again whenever the credential is opened for a call:
//!
//! - https only, no user name or password in the address, no query or fragment;
//! - a platform with fixed hosts only at those hosts (a Shopify store under `myshopify.com`,
//!   eBay's, Amazon's and BigCommerce's API hosts), on the default port;
//! - no loopback, private or link-local address, unless the worker runs for development (the
//!   run command and the tests point connections at storefronts on this machine).
//!
//! A host name that resolves to a private address cannot be caught here (there is no DNS in
//! the domain); on Cloudflare's network a worker cannot reach private networks at all.

use crate::storefront::StorefrontKind;
use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;
use url::{Host, Url};

/// Which addresses the worker may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Deployed: only public https addresses.
    Production,
    /// `wrangler dev` for the run command and the tests: addresses on this machine too, over
    /// plain http.
    Development,
}

impl Network {
    /// From the worker's `TALLY_NETWORK` setting: only the word `development` opens up this
    /// machine, so a missing or mistyped setting is production.
    pub fn from_setting(value: Option<&str>) -> Network {
        match value.map(str::trim) {
            Some("development") => Network::Development,
            _ => Network::Production,
        }
    }
}

/// Why an address was refused, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    #[error("Enter your store's API address (this platform has no shared one).")]
    Missing,
    #[error("That is not a web address: {0}.")]
    Unreadable(String),
    #[error("The API address must start with https://.")]
    NotHttps,
    #[error(
        "The address must not hold a user name or password; Tally sends the credential itself."
    )]
    UserInfo,
    #[error("The API address is the store's root, without ? or # parts.")]
    QueryOrFragment,
    #[error("{platform} is reached at {expected}; Tally sends its credential nowhere else.")]
    NotPlatformHost {
        platform: &'static str,
        expected: &'static str,
    },
    #[error("That address is on a private network or this machine, which Tally does not call.")]
    Private,
    #[error("The address is too long (at most 300 characters).")]
    TooLong,
}

/// The hosts a platform's API lives at, when the platform has fixed ones (a Shopify store is
/// `<store>.myshopify.com`; WooCommerce and Vendure run on the seller's own server).
fn platform_hosts(kind: StorefrontKind) -> Option<(&'static [&'static str], &'static str)> {
    match kind {
        StorefrontKind::Shopify => Some((&[".myshopify.com"], "your-store.myshopify.com")),
        StorefrontKind::Ebay => Some((
            &["api.ebay.com", "api.sandbox.ebay.com"],
            "api.ebay.com (or api.sandbox.ebay.com)",
        )),
        StorefrontKind::Amazon => Some((
            &[
                "sellingpartnerapi-na.amazon.com",
                "sellingpartnerapi-eu.amazon.com",
                "sellingpartnerapi-fe.amazon.com",
                "sandbox.sellingpartnerapi-na.amazon.com",
                "sandbox.sellingpartnerapi-eu.amazon.com",
                "sandbox.sellingpartnerapi-fe.amazon.com",
            ],
            "sellingpartnerapi-na.amazon.com (or its -eu, -fe and sandbox hosts)",
        )),
        StorefrontKind::Bigcommerce => Some((&["api.bigcommerce.com"], "api.bigcommerce.com")),
        StorefrontKind::Woocommerce | StorefrontKind::Vendure => None,
    }
}

/// The hosts a platform renews access tokens at (Login with Amazon's regional hosts).
fn token_hosts(kind: StorefrontKind) -> (&'static [&'static str], &'static str) {
    match kind {
        StorefrontKind::Ebay => (
            &["api.ebay.com", "api.sandbox.ebay.com"],
            "api.ebay.com (or api.sandbox.ebay.com)",
        ),
        _ => (
            &["api.amazon.com", "api.amazon.co.uk", "api.amazon.co.jp"],
            "api.amazon.com (or api.amazon.co.uk, api.amazon.co.jp)",
        ),
    }
}

/// A connection's API address as typed: checked for `kind` on `network`, without its trailing
/// `/`. Empty means the platform's own address, where it has one.
pub fn check_base_url(
    kind: StorefrontKind,
    input: &str,
    network: Network,
) -> Result<String, AddressError> {
    let text = input.trim().trim_end_matches('/');
    if text.is_empty() {
        return kind
            .default_base_url()
            .map(str::to_owned)
            .ok_or(AddressError::Missing);
    }
    let url = parse(text)?;
    check_call(&url, network)?;
    if url.query().is_some() {
        return Err(AddressError::QueryOrFragment);
    }
    if !is_this_machine(&url) {
        if let Some((hosts, expected)) = platform_hosts(kind) {
            on_hosts(&url, hosts).ok_or(AddressError::NotPlatformHost {
                platform: kind.label(),
                expected,
            })?;
        }
    }
    Ok(text.to_owned())
}

/// A renewal's token address (part of an eBay or Amazon refresh credential): only the
/// platform's own token hosts, or this machine for development.
pub fn check_token_url(
    kind: StorefrontKind,
    input: &str,
    network: Network,
) -> Result<String, AddressError> {
    let url = parse(input.trim())?;
    check_call(&url, network)?;
    if !is_this_machine(&url) {
        let (hosts, expected) = token_hosts(kind);
        on_hosts(&url, hosts).ok_or(AddressError::NotPlatformHost {
            platform: kind.label(),
            expected,
        })?;
    }
    Ok(input.trim().to_owned())
}

fn parse(text: &str) -> Result<Url, AddressError> {
    if text.len() > 300 {
        return Err(AddressError::TooLong);
    }
    if text.contains(char::is_whitespace) {
        return Err(AddressError::Unreadable("it holds spaces".to_owned()));
    }
    Url::parse(text).map_err(|e| AddressError::Unreadable(e.to_string()))
}

/// The rules every call follows: the scheme, no user info, no private or local host (except
/// this machine on a development network).
fn check_call(url: &Url, network: Network) -> Result<(), AddressError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddressError::UserInfo);
    }
    if url.fragment().is_some() {
        return Err(AddressError::QueryOrFragment);
    }
    let local = is_this_machine(url);
    match (url.scheme(), network) {
        ("https", _) => {}
        ("http", Network::Development) if local => {}
        _ => return Err(AddressError::NotHttps),
    }
    if local && network == Network::Development {
        return Ok(());
    }
    let private = match url.host() {
        None => true,
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost"
                || [".localhost", ".local", ".internal", ".lan", ".home.arpa"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
        }
        Some(Host::Ipv4(ip)) => !is_public_v4(ip),
        Some(Host::Ipv6(ip)) => !is_public_v6(ip),
    };
    if private {
        return Err(AddressError::Private);
    }
    Ok(())
}

/// Loopback: `localhost`, 127.0.0.0/8 or `::1`.
fn is_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `url`'s host is one of `hosts` (a leading `.` means any one name under it), on the
/// default https port.
fn on_hosts(url: &Url, hosts: &[&str]) -> Option<()> {
    let Some(Host::Domain(name)) = url.host() else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    let matches = hosts.iter().any(|h| match h.strip_prefix('.') {
        Some(_) => name
            .strip_suffix(h)
            .is_some_and(|store| !store.is_empty() && !store.contains('.')),
        None => name == *h,
    });
    (matches && url.port().is_none()).then_some(())
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || shared)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Network::{Development, Production};
    use StorefrontKind::{Amazon, Bigcommerce, Ebay, Shopify, Vendure, Woocommerce};

    #[test]
    fn fixed_host_platforms_take_only_their_own_hosts() {
        assert_eq!(
            check_base_url(Shopify, " https://mugs.myshopify.com/ ", Production),
            Ok("https://mugs.myshopify.com".to_owned())
        );
        for wrong in [
            "https://mugs.myshopify.com.evil.example",
            "https://evil.example/mugs.myshopify.com",
            "https://myshopify.com",
            "https://a.b.myshopify.com",
            "https://mugs.myshopify.com:8443",
        ] {
            assert!(
                matches!(
                    check_base_url(Shopify, wrong, Production),
                    Err(AddressError::NotPlatformHost { .. })
                ),
                "{wrong}"
            );
        }
        assert!(check_base_url(Ebay, "https://api.sandbox.ebay.com", Production).is_ok());
        assert!(check_base_url(Ebay, "https://api.ebay.com.evil.example", Production).is_err());
        assert!(check_base_url(
            Amazon,
            "https://sellingpartnerapi-eu.amazon.com",
            Production
        )
        .is_ok());
        assert!(check_base_url(Amazon, "https://amazon.evil.example", Production).is_err());
        assert!(check_base_url(
            Bigcommerce,
            "https://api.bigcommerce.com/stores/abc123",
            Production
        )
        .is_ok());
        assert!(
            check_base_url(Bigcommerce, "https://bc.evil.example/stores/a", Production).is_err()
        );
        // Self-hosted platforms live anywhere public.
        assert!(check_base_url(Woocommerce, "https://shop.example/", Production).is_ok());
        assert!(check_base_url(Vendure, "https://vendure.example:3000", Production).is_ok());
        // No address means the platform's own, where it has one.
        assert_eq!(
            check_base_url(Ebay, "", Production),
            Ok("https://api.ebay.com".to_owned())
        );
        assert_eq!(
            check_base_url(Woocommerce, "", Production),
            Err(AddressError::Missing)
        );
    }

    #[test]
    fn plain_http_user_info_and_fragments_are_refused() {
        let cases = [
            ("http://shop.example", AddressError::NotHttps),
            ("ftp://shop.example", AddressError::NotHttps),
            ("https://me:pw@shop.example", AddressError::UserInfo),
            ("https://me@shop.example", AddressError::UserInfo),
            ("https://shop.example/#x", AddressError::QueryOrFragment),
            (
                "https://shop.example/?page=2",
                AddressError::QueryOrFragment,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                check_base_url(Woocommerce, input, Production),
                Err(expected),
                "{input}"
            );
        }
        assert!(matches!(
            check_base_url(Woocommerce, "https://shop example", Production),
            Err(AddressError::Unreadable(_))
        ));
    }

    #[test]
    fn this_machine_and_private_networks_only_for_development() {
        let private = [
            "https://127.0.0.1:9001",
            "https://localhost",
            "https://10.0.0.5",
            "https://172.16.3.4",
            "https://192.168.1.1",
            "https://169.254.169.254",
            "https://100.64.0.1",
            "https://0.0.0.0",
            "https://[::1]",
            "https://[fd00::1]",
            "https://[fe80::1]",
            "https://[::ffff:10.0.0.1]",
            "https://printer.local",
            "https://db.internal",
        ];
        for input in private {
            assert_eq!(
                check_base_url(Woocommerce, input, Production),
                Err(AddressError::Private),
                "{input}"
            );
        }
        // Development: the sandboxes on this machine, over http, for any platform.
        assert_eq!(
            check_base_url(Shopify, "http://127.0.0.1:9001/", Development),
            Ok("http://127.0.0.1:9001".to_owned())
        );
        assert!(check_base_url(Amazon, "http://localhost:9002", Development).is_ok());
        // Still not the rest of the private network, nor plain http elsewhere.
        assert_eq!(
            check_base_url(Woocommerce, "https://10.0.0.5", Development),
            Err(AddressError::Private)
        );
        assert_eq!(
            check_base_url(Woocommerce, "http://shop.example", Development),
            Err(AddressError::NotHttps)
        );
        assert!(check_base_url(Woocommerce, "http://127.0.0.1.evil.example", Development).is_err());
    }

    #[test]
    fn renewals_go_only_to_the_platforms_token_hosts() {
        let ebay = "https://api.ebay.com/identity/v1/oauth2/token";
        assert_eq!(check_token_url(Ebay, ebay, Production), Ok(ebay.to_owned()));
        assert!(
            check_token_url(Amazon, "https://api.amazon.co.uk/auth/o2/token", Production).is_ok()
        );
        assert!(matches!(
            check_token_url(Amazon, "https://collector.evil.example/token", Production),
            Err(AddressError::NotPlatformHost { .. })
        ));
        assert!(check_token_url(Ebay, "http://127.0.0.1:9/token", Production).is_err());
        assert!(check_token_url(Ebay, "http://127.0.0.1:9/token", Development).is_ok());
    }

    #[test]
    fn the_setting_must_say_development_exactly() {
        assert_eq!(Network::from_setting(Some("development")), Development);
        assert_eq!(Network::from_setting(Some("dev")), Production);
        assert_eq!(Network::from_setting(None), Production);
    }
}
