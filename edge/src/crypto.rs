//! The platform's WebCrypto: random bytes and PBKDF2. Native code, so a 100,000-iteration
//! password hash fits Workers' CPU limits (a pure-wasm PBKDF2 would not).

use crate::error::ApiError;
use js_sys::{Array, Object, Reflect, Uint8Array};
use tally_domain::secret::{PasswordHash, PBKDF2_ITERATIONS};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn web_crypto() -> Result<web_sys::Crypto, ApiError> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
        .ok_or_else(|| ApiError::Internal("WebCrypto is not available".into()))
}

fn js_err(what: &str) -> impl Fn(JsValue) -> ApiError + '_ {
    move |e| ApiError::Internal(format!("{what}: {e:?}"))
}

/// `N` cryptographically random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    web_crypto()?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(js_err("getRandomValues"))?;
    Ok(bytes)
}

/// PBKDF2-HMAC-SHA256 of `password` with `salt` over `iterations` rounds, 256 bits.
pub async fn pbkdf2(password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, ApiError> {
    let subtle = web_crypto()?.subtle();
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key_data = Uint8Array::from(password);
    let key = JsFuture::from(
        subtle
            .import_key_with_str("raw", &key_data, "PBKDF2", false, &usages)
            .map_err(js_err("importKey"))?,
    )
    .await
    .map_err(js_err("importKey"))?
    .unchecked_into::<web_sys::CryptoKey>();
    let params = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&params, &JsValue::from_str(k), &v);
    set("name", "PBKDF2".into()).map_err(js_err("params"))?;
    set("hash", "SHA-256".into()).map_err(js_err("params"))?;
    set("salt", Uint8Array::from(salt).into()).map_err(js_err("params"))?;
    set("iterations", iterations.into()).map_err(js_err("params"))?;
    let bits = JsFuture::from(
        subtle
            .derive_bits_with_object(&params, &key, 256)
            .map_err(js_err("deriveBits"))?,
    )
    .await
    .map_err(js_err("deriveBits"))?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// The worker secret `PASSWORD_PEPPER` (base64), mixed into every new password hash.
pub fn pepper(env: &worker::Env) -> Result<Vec<u8>, ApiError> {
    use base64::Engine as _;
    let text = env
        .secret(crate::bindings::PASSWORD_PEPPER)
        .map_err(|_| ApiError::Internal("the PASSWORD_PEPPER secret is not set".into()))?
        .to_string();
    let pepper = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| ApiError::Internal(format!("PASSWORD_PEPPER is not base64: {e}")))?;
    // A short pepper is no secret: refuse to hash with it rather than pretend.
    if pepper.len() < 16 {
        return Err(ApiError::Internal(
            "PASSWORD_PEPPER must be at least 16 random bytes (base64)".into(),
        ));
    }
    Ok(pepper)
}

/// A new stored hash for `password` under `pepper`, with a fresh random salt.
pub async fn hash_password(password: &str, pepper: &[u8]) -> Result<PasswordHash, ApiError> {
    let salt = random_bytes::<16>()?.to_vec();
    let input = tally_domain::secret::peppered(pepper, password);
    let hash = pbkdf2(&input, &salt, PBKDF2_ITERATIONS).await?;
    Ok(PasswordHash {
        iterations: PBKDF2_ITERATIONS,
        salt,
        hash,
        peppered: true,
    })
}

/// What checking a password against its stored hash found.
pub enum Checked {
    Wrong,
    Right,
    /// Right, and stored in an older form (no pepper, fewer rounds): store it again.
    RightButOld,
}

/// Checks `password` against the stored hash (peppered or from before the pepper). Unreadable
/// hashes never match.
pub async fn verify_password(
    password: &str,
    stored: &str,
    pepper: &[u8],
) -> Result<Checked, ApiError> {
    let Some(expected) = PasswordHash::decode(stored) else {
        return Ok(Checked::Wrong);
    };
    let input = if expected.peppered {
        tally_domain::secret::peppered(pepper, password)
    } else {
        password.as_bytes().to_vec()
    };
    let derived = pbkdf2(&input, &expected.salt, expected.iterations).await?;
    Ok(match expected.matches(&derived) {
        false => Checked::Wrong,
        true if expected.peppered && expected.iterations >= PBKDF2_ITERATIONS => Checked::Right,
        true => Checked::RightButOld,
    })
}

/// Imports the 256-bit AES-GCM key given as base64 (the worker secret `CREDENTIALS_KEY`).
async fn aes_key(key_b64: &str) -> Result<web_sys::CryptoKey, ApiError> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key_b64.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            ApiError::Internal("CREDENTIALS_KEY must be 32 random bytes in base64".into())
        })?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key = JsFuture::from(
        web_crypto()?
            .subtle()
            .import_key_with_str(
                "raw",
                &Uint8Array::from(raw.as_slice()),
                "AES-GCM",
                false,
                &usages,
            )
            .map_err(js_err("importKey"))?,
    )
    .await
    .map_err(js_err("importKey"))?;
    Ok(key.unchecked_into())
}

fn aes_params(iv: &[u8]) -> Result<Object, ApiError> {
    let params = Object::new();
    Reflect::set(&params, &"name".into(), &"AES-GCM".into()).map_err(js_err("params"))?;
    Reflect::set(&params, &"iv".into(), &Uint8Array::from(iv).into()).map_err(js_err("params"))?;
    Ok(params)
}

/// Encrypts a storefront credential: base64 of a fresh 12-byte nonce followed by the AES-GCM
/// ciphertext. A database copy alone never reveals a credential.
pub async fn seal(key_b64: &str, plaintext: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    let key = aes_key(key_b64).await?;
    let iv = random_bytes::<12>()?;
    let data = plaintext.as_bytes();
    let sealed = JsFuture::from(
        web_crypto()?
            .subtle()
            .encrypt_with_object_and_u8_array(&aes_params(&iv)?, &key, data)
            .map_err(js_err("encrypt"))?,
    )
    .await
    .map_err(js_err("encrypt"))?;
    let mut out = iv.to_vec();
    out.extend(Uint8Array::new(&sealed).to_vec());
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Decrypts what [`seal`] produced.
pub async fn open(key_b64: &str, sealed: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()
        .filter(|b| b.len() > 12)
        .ok_or_else(|| ApiError::Internal("a stored credential is unreadable".into()))?;
    let key = aes_key(key_b64).await?;
    let (iv, ciphertext) = bytes.split_at(12);
    let plain = JsFuture::from(
        web_crypto()?
            .subtle()
            .decrypt_with_object_and_u8_array(&aes_params(iv)?, &key, ciphertext)
            .map_err(js_err("decrypt"))?,
    )
    .await
    .map_err(js_err("decrypt: wrong CREDENTIALS_KEY?"))?;
    String::from_utf8(Uint8Array::new(&plain).to_vec())
        .map_err(|_| ApiError::Internal("a stored credential is not text".into()))
}
