//! The pages' scripts and styles, built into the binary (no CDN: a district office may have no
//! internet at all). Pages link them as `/assets/NAME?v=HASH`, so a browser keeps each for a year
//! and fetches it again only when the server carries a new version.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Vendored files carry their licence beside them in `server/assets/vendor`.
const FILES: &[Asset] = &[
    Asset {
        name: "verivali.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/verivali.css"),
    },
    Asset {
        name: "htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/htmx-2.0.11.min.js"),
    },
    Asset {
        name: "print.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/print.js"),
    },
    Asset {
        name: "map.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/map.js"),
    },
    Asset {
        name: "leaflet-1.9.4.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/leaflet-1.9.4.js"),
    },
    Asset {
        name: "leaflet-1.9.4.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/vendor/leaflet-1.9.4.css"),
    },
    Asset {
        name: "pmtiles-4.5.0.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/vendor/pmtiles-4.5.0.js"),
    },
];

/// Each file's version: the first 16 hex digits of its sha256.
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|f| format!("{:x}", Sha256::digest(f.body))[..16].to_owned())
        .collect()
});

/// The address a page links an asset by.
pub fn url(name: &str) -> String {
    match FILES.iter().position(|f| f.name == name) {
        Some(i) => format!("/assets/{name}?v={}", VERSIONS[i]),
        None => format!("/assets/{name}"),
    }
}

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = FILES.iter().position(|f| f.name == name) else {
        return crate::error::not_found().await.into_response();
    };
    let etag = format!("\"{}\"", VERSIONS[i]);
    let cache = [
        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        (header::CONTENT_TYPE, FILES[i].content_type),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let mut response = (cache, FILES[i].body).into_response();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}
