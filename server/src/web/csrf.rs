//! Cross-site request protection for form posts. The session cookie is `SameSite=Strict`, so
//! another site's page cannot send it; on top of that every form carries a token derived from the
//! session (a page of another origin cannot read it), and a post whose `Origin` or
//! `Sec-Fetch-Site` names another site is refused before anything runs.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

use crate::tokens;

/// The token a session's forms carry: a digest of the session's secret, which it does not reveal.
pub fn token(session_token: &str) -> String {
    tokens::hash(&format!("verivali-csrf:{session_token}"))
}

/// Whether a form post comes from a page of this server: `Sec-Fetch-Site` (sent by every current
/// browser) must not say cross-site, and an `Origin`, when sent, must name this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host.is_some() && origin_host == host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn posts_from_another_site_are_refused() {
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn the_token_depends_on_the_session_and_does_not_show_it() {
        assert_ne!(token("a"), token("b"));
        assert!(!token("rahasia").contains("rahasia"));
    }
}
