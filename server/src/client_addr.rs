//! The client's address, as rate limits key on it. Directly connected, it is the peer's. Behind a
//! reverse proxy named by `--trusted-proxies`, every request comes from the proxy: then the
//! address is the last one of `X-Forwarded-For` that is not itself a trusted proxy (the one the
//! first trusted proxy saw connect). From anyone else the header is ignored: a client could
//! otherwise pick a new address for each guess.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| ApiError::internal("a request without its peer's address"))?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(Self(client_of(
            peer.ip(),
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}

/// The client behind `peer`, given the `X-Forwarded-For` values in order and the proxies trusted.
fn client_of<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return ip,
            // A hop that is no address: nothing before it can be believed.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let via =
            |peer: &str, header: &[&str]| client_of(ip(peer), header.iter().copied(), &proxies);
        // Straight from a client: the header is whatever it chose to send.
        assert_eq!(via("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // Through the proxy: the address it saw; what the client wrote before it is not believed.
        assert_eq!(
            via("10.0.0.2", &["1.2.3.4, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        // Through two trusted proxies, in one header or two.
        assert_eq!(
            via("10.0.0.2", &["198.51.100.7", "10.0.0.3"]),
            ip("198.51.100.7")
        );
        // No header, or an unreadable hop: the proxy itself.
        assert_eq!(via("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(via("10.0.0.2", &["bukan-alamat"]), ip("10.0.0.2"));
        assert_eq!(
            client_of(ip("10.0.0.2"), ["198.51.100.7"].into_iter(), &[]),
            ip("10.0.0.2")
        );
    }
}
