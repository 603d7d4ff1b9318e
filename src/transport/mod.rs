//! Transports to the peer under test. A [`Target`] is parsed from a URL
//! (`mqtt://` plain TCP, `mqtts://` TLS, `ws://` WebSocket, `wss://`
//! WebSocket over TLS); a connection is a [`Link`] the runner taps (every
//! read and write becomes bytes with a direction). `mqttspec serve` listens
//! on the same schemes ([`Listener`], with the server side of TLS in
//! [`tls_server`]).

mod link;
mod listen;
pub mod tls;
pub mod tls_server;
pub mod ws;

pub use link::{Chunk, Framing, Link, LinkReader, LinkWriter};
pub use listen::{Accepted, ListenError, Listener, Refused, HANDSHAKE_WAIT};

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Anything the runner can read and write.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A byte stream to the peer.
pub type Stream = Box<dyn Io>;

/// How to reach the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain TCP (`mqtt://`, default port 1883).
    Tcp,
    /// TLS over TCP (`mqtts://`, default port 8883).
    Tls,
    /// WebSocket over TCP (`ws://`, default port 80, path `/mqtt`).
    Ws,
    /// WebSocket over TLS (`wss://`, default port 443, path `/mqtt`).
    Wss,
}

impl Scheme {
    /// Whether the connection starts with a TLS handshake.
    pub fn uses_tls(self) -> bool {
        matches!(self, Scheme::Tls | Scheme::Wss)
    }

    /// Whether MQTT travels in WebSocket frames.
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }

    /// The URL scheme: "mqtt", "mqtts", "ws" or "wss".
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Tcp => "mqtt",
            Scheme::Tls => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

/// TLS client settings of a run (None for plain TCP).
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<rustls::ClientConfig>,
    /// Name to verify the broker's certificate against (and send as SNI)
    /// instead of the target's host.
    pub server_name: Option<String>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls { .. }")
    }
}

/// Where the broker under test listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// HTTP path of the WebSocket endpoint (`/mqtt` by default; empty for
    /// `mqtt://` and `mqtts://`).
    pub path: String,
}

/// Transport-level failures (harness errors, not spec violations).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("bad target URL `{0}`: {1}")]
    BadUrl(String, String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("cannot connect to {0}: no answer within {1:?}")]
    ConnectTimeout(String, Duration),
    #[error("TLS handshake with {0} failed: {1}")]
    Handshake(String, String),
    #[error("TLS handshake with {0} failed: {1}")]
    Refused(String, tls::Refusal),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("WebSocket handshake with {0} failed: {1}")]
    WsHandshake(String, String),
    /// The WebSocket server did not select the `mqtt` subprotocol: a
    /// verdict about the server (MQTT-6.0.0-4), not a harness failure.
    #[error("{0}")]
    Subprotocol(String),
}

impl Target {
    /// Parse `mqtt://host[:port]` (port 1883 by default), `mqtts://` (8883),
    /// `ws://host[:port][/path]` (80, path `/mqtt`) or `wss://` (443, path
    /// `/mqtt`). IPv6 hosts in brackets.
    pub fn parse(url: &str) -> Result<Target, TransportError> {
        let t = Target::parse_listen(url)?;
        if t.port == 0 {
            return Err(TransportError::BadUrl(
                url.to_string(),
                "need a non-zero port".to_string(),
            ));
        }
        Ok(t)
    }

    /// Like [`Target::parse`], for an address to listen on: port 0 means
    /// any free port.
    pub fn parse_listen(url: &str) -> Result<Target, TransportError> {
        let bad = |why: &str| TransportError::BadUrl(url.to_string(), why.to_string());
        let (scheme, rest) = match url.split_once("://") {
            Some(("mqtt", rest)) | Some(("tcp", rest)) => (Scheme::Tcp, rest),
            Some(("mqtts", rest)) | Some(("ssl", rest)) | Some(("tls", rest)) => {
                (Scheme::Tls, rest)
            }
            Some(("ws", rest)) => (Scheme::Ws, rest),
            Some(("wss", rest)) => (Scheme::Wss, rest),
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "scheme `{scheme}` is not supported (use mqtt://, mqtts://, ws:// or wss://)"
                )))
            }
            None => (Scheme::Tcp, url),
        };
        let default_port = match scheme {
            Scheme::Tcp => 1883,
            Scheme::Tls => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        };
        let (rest, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let path = if scheme.is_websocket() {
            match path {
                "" | "/" => ws::DEFAULT_PATH.to_string(),
                p => p.to_string(),
            }
        } else if path.trim_end_matches('/').is_empty() {
            String::new()
        } else {
            return Err(bad("a path only applies to ws:// and wss://"));
        };
        if rest.is_empty() {
            return Err(bad("no host"));
        }
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("unexpected text after `]`")),
            };
            (h.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
                ),
                None => (rest.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Target {
            url: url.to_string(),
            scheme,
            host,
            port,
            path,
        })
    }

    /// `host:port` for connecting (brackets around IPv6).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Open a TCP connection, giving up after `timeout`.
    pub async fn connect_tcp(&self, timeout: Duration) -> Result<TcpStream, TransportError> {
        match tokio::time::timeout(timeout, TcpStream::connect(self.addr())).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok(s)
            }
            Ok(Err(e)) => Err(TransportError::Connect(self.addr(), e)),
            Err(_) => Err(TransportError::ConnectTimeout(self.addr(), timeout)),
        }
    }

    /// Open a connection (TCP, then TLS for `mqtts://` and `wss://`, then
    /// the WebSocket handshake for `ws://` and `wss://`), giving up after
    /// `timeout` per stage.
    pub async fn connect(
        &self,
        timeout: Duration,
        tls: Option<&Tls>,
    ) -> Result<Link, TransportError> {
        let tcp = self.connect_tcp(timeout).await?;
        let stream: Stream = match (self.scheme.uses_tls(), tls) {
            (false, _) => Box::new(tcp),
            (true, None) => return Err(TransportError::Tls(tls::TlsError::NoCa)),
            (true, Some(t)) => {
                let name = tls::server_name(t.server_name.as_deref().unwrap_or(&self.host))?;
                let connector = tokio_rustls::TlsConnector::from(t.config.clone());
                match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
                    Ok(Ok(s)) => Box::new(s),
                    Ok(Err(e)) => {
                        return Err(TransportError::Refused(self.addr(), tls::Refusal::of(&e)))
                    }
                    Err(_) => {
                        return Err(TransportError::Handshake(
                            self.addr(),
                            format!("no handshake within {timeout:?}"),
                        ))
                    }
                }
            }
        };
        if self.scheme.is_websocket() {
            ws::handshake(self, stream, timeout)
                .await
                .map(|ws| Link::Ws(Box::new(ws)))
        } else {
            Ok(Link::Stream(stream))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 1884));
        assert_eq!(Target::parse("mqtt://localhost").unwrap().port, 1883);
        assert_eq!(Target::parse("mqtt://[::1]:99").unwrap().addr(), "[::1]:99");
        assert!(Target::parse("http://x").is_err());
        let t = Target::parse("mqtts://localhost").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Tls, 8883));
        assert!(Target::parse("mqtt://h:notaport").is_err());
        assert!(Target::parse("mqtt://h:1883/x").is_err());
        assert_eq!(Target::parse("mqtt://h:1883/").unwrap().path, "");
    }

    #[test]
    fn parses_websocket_urls() {
        let t = Target::parse("ws://127.0.0.1:9001").unwrap();
        assert_eq!(
            (t.scheme, t.port, t.path.as_str()),
            (Scheme::Ws, 9001, "/mqtt")
        );
        let t = Target::parse("ws://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/mqtt"));
        let t = Target::parse("wss://[::1]/ws/x").unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port, t.path.as_str()),
            (Scheme::Wss, "::1", 443, "/ws/x")
        );
        assert_eq!(Target::parse("ws://h:1/").unwrap().path, "/mqtt");
        assert!(Target::parse("ws://:80/mqtt").is_err());
        assert!(Scheme::Wss.uses_tls() && Scheme::Wss.is_websocket());
        assert!(!Scheme::Tls.is_websocket() && !Scheme::Ws.uses_tls());
    }
}
