//! A proxy on loopback between phones and a server: it counts the bytes each way and cuts a share
//! of the requests mid-flight, as a weak signal does.
//!
//! It speaks just enough HTTP/1.1 to relay one request per connection (it asks the server to
//! close after answering, and the phone then opens a new connection for the next request), so
//! that each request can be cut on its own at one of three points:
//! - while the request is sent: the server never sees it whole and stores nothing;
//! - after the server has answered, before the phone hears anything: the server stored the visits
//!   and the phone does not know, the case that must not store anything twice;
//! - half way through the answer.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub struct Proxy {
    /// `127.0.0.1:port`
    pub addr: String,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// The server's `host:port`; a server restarted on the same port is found again.
    target: String,
    cut_percent: AtomicU64,
    /// Phone to server, and server to phone: what reached the other side.
    up: AtomicU64,
    down: AtomicU64,
    requests: AtomicU64,
    pushes: AtomicU64,
    cuts: AtomicU64,
    dice: AtomicU64,
}

/// Where a request is cut; the number picks the byte, at random, so that some cuts fall in the
/// head and some in the body.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    Request(usize),
    BeforeAnswer,
    Answer(usize),
}

impl Proxy {
    /// A proxy that cuts nothing until told to.
    pub fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            target: target.to_owned(),
            ..Shared::default()
        });
        let relaying = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = relaying.clone();
                // A failed relay is a cut connection, which is what the phone must survive.
                std::thread::spawn(move || shared.relay(client));
            }
        });
        Self { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, cut this share of the requests (0 to 100).
    pub fn cut_percent(&self, percent: u64) {
        self.shared.cut_percent.store(percent, Ordering::Relaxed);
    }

    /// Bytes both ways since the last call.
    pub fn take(&self) -> (u64, u64) {
        (
            self.shared.up.swap(0, Ordering::Relaxed),
            self.shared.down.swap(0, Ordering::Relaxed),
        )
    }

    /// Requests relayed or cut so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Pushes of visits among them.
    pub fn pushes(&self) -> u64 {
        self.shared.pushes.load(Ordering::Relaxed)
    }

    /// Requests cut so far.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::Relaxed)
    }
}

impl Shared {
    fn relay(&self, client: TcpStream) -> io::Result<()> {
        client.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut from_phone = BufReader::new(client.try_clone()?);
        let (head, body_length) = read_head(&mut from_phone)?;
        let mut request = head.into_bytes();
        let head_length = request.len();
        request.resize(head_length + body_length, 0);
        from_phone.read_exact(&mut request[head_length..])?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        if request.starts_with(b"POST /api/v1/sync/push") {
            self.pushes.fetch_add(1, Ordering::Relaxed);
        }

        let cut = self.roll();
        let mut server = TcpStream::connect(&self.target)?;
        server.set_read_timeout(Some(Duration::from_secs(120)))?;
        if let Some(Cut::Request(random)) = cut {
            let at = random % request.len();
            server.write_all(&request[..at])?;
            self.up.fetch_add(at as u64, Ordering::Relaxed);
            return Ok(());
        }
        server.write_all(&request)?;
        self.up.fetch_add(request.len() as u64, Ordering::Relaxed);
        let mut response = Vec::new();
        server.read_to_end(&mut response)?;
        let sent = match cut {
            Some(Cut::BeforeAnswer) => 0,
            Some(Cut::Answer(random)) => random % response.len().max(1),
            _ => response.len(),
        };
        (&client).write_all(&response[..sent])?;
        self.down.fetch_add(sent as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Whether and where to cut the next request.
    fn roll(&self) -> Option<Cut> {
        // splitmix64 over a counter: reproducible enough, and no crate for it.
        let mut z = self
            .dice
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if z % 100 >= self.cut_percent.load(Ordering::Relaxed) {
            return None;
        }
        self.cuts.fetch_add(1, Ordering::Relaxed);
        let at = (z >> 16) as usize;
        Some(match (z >> 8) % 3 {
            0 => Cut::Request(at),
            1 => Cut::BeforeAnswer,
            _ => Cut::Answer(at),
        })
    }
}

/// Reads a request's head and gives it back asking the server to close the connection after its
/// answer, with the length of the body that follows.
fn read_head(from: &mut impl BufRead) -> io::Result<(String, usize)> {
    let mut head = String::new();
    let mut body_length = 0;
    loop {
        let mut line = String::new();
        if from.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            body_length = value
                .trim()
                .parse()
                .map_err(|_| io::Error::other("a content-length that is not a number"))?;
        }
        if lower.starts_with("transfer-encoding:") {
            return Err(io::Error::other(
                "a chunked request: the phone never sends one",
            ));
        }
        if !lower.starts_with("connection:") {
            head.push_str(&line);
        }
    }
    head.push_str("connection: close\r\n\r\n");
    Ok((head, body_length))
}
