//! Download links: an export opens in a new browser tab, with no Authorization header, so
//! its URL carries its own credential — an HS256 JWT naming the artifact, its session and
//! tenant, with an expiry, signed with the access-token secret under its own audience (an
//! access token is no download token, and a download token is no access token). A link
//! cannot be guessed, changed to name another artifact, or used after it expires.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::tokens::ISSUER;

pub const DOWNLOAD_AUDIENCE: &str = "symphainy-download";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadClaims {
    /// The artifact (an export).
    pub sub: String,
    /// Its session.
    pub sid: String,
    /// Its tenant, empty for an anonymous session's.
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct DownloadKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl DownloadKeys {
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[DOWNLOAD_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // An expired link is expired: no leeway.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A token for `artifact_id` of `session_id` (and `tenant_id`), valid until `exp`
    /// (Unix seconds).
    pub fn issue(
        &self,
        artifact_id: &str,
        session_id: &str,
        tenant_id: Option<&str>,
        exp: i64,
    ) -> anyhow::Result<String> {
        let claims = DownloadClaims {
            sub: artifact_id.into(),
            sid: session_id.into(),
            tid: tenant_id.unwrap_or_default().into(),
            iat: chrono::Utc::now().timestamp(),
            exp,
            iss: ISSUER.into(),
            aud: DOWNLOAD_AUDIENCE.into(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<DownloadClaims, &'static str> {
        jsonwebtoken::decode::<DownloadClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "the download link has expired"
                }
                _ => "the download link is not valid",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::tokens::JwtKeys;

    #[test]
    fn links_expire_cannot_be_altered_and_are_not_access_tokens() {
        let keys = DownloadKeys::new("secret");
        let later = chrono::Utc::now().timestamp() + 60;
        let t = keys.issue("a1", "s1", Some("t1"), later).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.tid.as_str()),
            ("a1", "s1", "t1")
        );
        // Expired a second ago.
        let old = keys
            .issue("a1", "s1", None, chrono::Utc::now().timestamp() - 1)
            .unwrap();
        assert_eq!(keys.verify(&old), Err("the download link has expired"));
        // Another key, or a changed payload.
        assert!(DownloadKeys::new("other").verify(&t).is_err());
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(keys.verify(&parts.join(".")).is_err());
        // An access token signed with the same secret is refused, and the other way round.
        let access = JwtKeys::new("secret", std::time::Duration::from_secs(60))
            .issue("u1", "t1", &[])
            .unwrap();
        assert!(keys.verify(&access).is_err());
        assert!(JwtKeys::new("secret", std::time::Duration::from_secs(60))
            .verify(&t)
            .is_err());
    }
}
