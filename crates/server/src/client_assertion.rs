//! The server proves itself to the organisation's identity provider with a signed JWT instead
//! of a shared secret (`private_key_jwt`, OpenID Connect Core 9 and RFC 7523): the private key
//! never leaves this server, and the provider holds only the public key (registered there, or
//! fetched from `GET /v1/staff/oidc/jwks`). The `openidconnect` crate has no such client
//! authentication, so the assertion is made here and sent as two extra form fields.

use std::path::Path;

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use serde_json::json;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion is good for one request; a minute covers clock skew.
const LIFETIME_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM private key (PKCS#8): {0}")]
    Pem(String),
    #[error("the key is neither EC P-256 nor RSA (2048 bits or more) in PKCS#8")]
    Unsupported,
    #[error("signing failed")]
    Sign,
}

enum Pair {
    /// ES256.
    Ec(EcdsaKeyPair),
    /// RS256, for providers that take only RSA (Microsoft Entra ID).
    Rsa(RsaKeyPair),
}

/// The server's key for client assertions.
pub struct AssertionKey {
    pair: Pair,
    /// The public key as a JWK, with its RFC 7638 thumbprint as `kid`.
    public_jwk: serde_json::Value,
    kid: String,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl AssertionKey {
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let der = PrivateKeyDer::from_pem_file(path).map_err(|e| KeyError::Pem(e.to_string()))?;
        let PrivateKeyDer::Pkcs8(pkcs8) = der else { return Err(KeyError::Unsupported) };
        Self::from_pkcs8(pkcs8.secret_pkcs8_der())
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng) {
            // An uncompressed point: 0x04, x, y.
            let (x, y) = pair.public_key().as_ref()[1..].split_at(32);
            // RFC 7638: the required members in lexicographic order, no spaces.
            let thumb = format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, b64(x), b64(y));
            let kid = b64(&cjg_crypto::sha256(thumb.as_bytes()));
            let public_jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y),
                "kid": kid, "alg": "ES256", "use": "sig"});
            return Ok(Self { pair: Pair::Ec(pair), public_jwk, kid });
        }
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::Unsupported)?;
        let public: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
        let (n, e) = (b64(&public.n), b64(&public.e));
        let thumb = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = b64(&cjg_crypto::sha256(thumb.as_bytes()));
        let public_jwk = json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig"});
        Ok(Self { pair: Pair::Rsa(pair), public_jwk, kid })
    }

    /// The public key set to register at the provider (or for it to fetch).
    pub fn jwks(&self) -> serde_json::Value {
        json!({"keys": [self.public_jwk]})
    }

    /// A one-time assertion for `client_id` at the provider's token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, now: i64) -> Result<String, KeyError> {
        let alg = match self.pair {
            Pair::Ec(_) => "ES256",
            Pair::Rsa(_) => "RS256",
        };
        let jti = b64(&cjg_crypto::random_array::<16>().map_err(|_| KeyError::Sign)?);
        let header = json!({"alg": alg, "typ": "JWT", "kid": self.kid});
        let claims = json!({"iss": client_id, "sub": client_id, "aud": audience, "jti": jti,
            "iat": now, "exp": now + LIFETIME_SECONDS});
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            Pair::Ec(pair) => {
                pair.sign(&rng, input.as_bytes()).map_err(|_| KeyError::Sign)?.as_ref().to_vec()
            }
            Pair::Rsa(pair) => {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).map_err(|_| KeyError::Sign)?;
                sig
            }
        };
        Ok(format!("{input}.{}", b64(&signature)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    #[test]
    fn an_ec_assertion_verifies_with_the_published_key_and_names_the_client() {
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        let key = AssertionKey::from_pkcs8(der.as_ref()).unwrap();
        let jwt = key.assertion("mijn-cjg", "https://idp.example/token", 1_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let decode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims["iss"], "mijn-cjg");
        assert_eq!(claims["sub"], "mijn-cjg");
        assert_eq!(claims["aud"], "https://idp.example/token");
        assert_eq!(claims["exp"], 1_060);
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        let jwks = key.jwks();
        assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
        let jwk = &jwks["keys"][0];
        let mut point = vec![4u8];
        point.extend(decode(jwk["x"].as_str().unwrap()));
        point.extend(decode(jwk["y"].as_str().unwrap()));
        let input = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &decode(parts[2]))
            .expect("the published key verifies the assertion");
        let again = key.assertion("mijn-cjg", "https://idp.example/token", 1_000).unwrap();
        assert_ne!(jwt, again, "every assertion has its own jti");
    }

    #[test]
    fn a_key_that_is_not_pkcs8_is_refused() {
        assert!(matches!(AssertionKey::from_pkcs8(b"geen sleutel"), Err(KeyError::Unsupported)));
    }
}
