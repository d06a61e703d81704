//! The client's address for rate limiting: the peer address, or behind a trusted proxy
//! (`SYMPHAINY_TRUST_FORWARDED_FOR`) the last `X-Forwarded-For` entry, which that proxy wrote.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::state::ExperienceState;
use crate::http::ApiError;

pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<ExperienceState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ExperienceState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings.trust_forwarded_for {
            // The last entry of the last header line is the one our proxy wrote; whatever the
            // client sent comes before it.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(parse_forwarded_ip);
            if let Some(ip) = forwarded {
                return Ok(ClientAddr(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientAddr(peer))
    }
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_forwarded_ip(raw: &str) -> Option<IpAddr> {
    let v = raw.trim();
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = v.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    v.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|inner| inner.parse().ok())
}

impl ClientAddr {
    /// The rate-limit key: the address, or for IPv6 its /64 (one host usually owns a /64).
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_proxies_write() {
        assert_eq!(
            parse_forwarded_ip(" 1.2.3.4"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            parse_forwarded_ip("1.2.3.4:80"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            parse_forwarded_ip("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_forwarded_ip("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_forwarded_ip("unknown"), None);
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().unwrap()).limit_key();
        let b = ClientAddr("2001:db8:1:2:bbbb::9".parse().unwrap()).limit_key();
        assert_eq!(a, b);
    }
}
