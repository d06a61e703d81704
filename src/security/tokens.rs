//! Access tokens: HS256 JWTs with the contract's claims, about 15 minutes. Only HS256 is
//! accepted; `none` and every other algorithm are refused. Refresh tokens: 256 random bits,
//! shown once to the client and stored only as a SHA-256 hash.

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "symphainy";
pub const AUDIENCE: &str = "symphainy-experience";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tid: String,
    pub roles: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &str, access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_ttl,
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        tenant_id: &str,
        roles: &[String],
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            tid: tenant_id.to_string(),
            roles: roles.to_vec(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid token; `Err` with a short reason otherwise.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
                _ => "the access token is invalid",
            })
    }
}

/// A new opaque refresh token (base64url, 256 bits).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new("test-secret-0123456789", Duration::from_secs(900))
    }

    #[test]
    fn issues_and_verifies_with_the_contract_claims() {
        let k = keys();
        let t = k.issue("u1", "t1", &["owner".into()]).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.tid.as_str()), ("u1", "t1"));
        assert_eq!(c.roles, ["owner"]);
        assert_eq!(c.exp - c.iat, 900);
        assert_eq!((c.iss.as_str(), c.aud.as_str()), (ISSUER, AUDIENCE));
        assert!(uuid::Uuid::parse_str(&c.jti).is_ok());
    }

    #[test]
    fn refuses_tampered_foreign_none_and_expired_tokens() {
        let k = keys();
        let t = k.issue("u1", "t1", &[]).unwrap();
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        // Tampered payload (another user), original signature.
        let other = k.issue("u2", "t1", &[]).unwrap();
        parts[1] = other.split('.').nth(1).unwrap().to_string();
        assert!(k.verify(&parts.join(".")).is_err());
        // Signed with another key.
        let foreign = JwtKeys::new("another-secret", Duration::from_secs(900));
        assert!(k.verify(&foreign.issue("u1", "t1", &[]).unwrap()).is_err());
        // alg "none".
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let none = format!("{header}.{}.", t.split('.').nth(1).unwrap());
        assert!(k.verify(&none).is_err());
        // Expired.
        let short = JwtKeys::new("test-secret-0123456789", Duration::from_secs(0));
        let mut c = k.verify(&t).unwrap();
        c.exp = c.iat - 60;
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &c,
            &EncodingKey::from_secret(b"test-secret-0123456789"),
        )
        .unwrap();
        assert_eq!(short.verify(&expired), Err("the access token has expired"));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
