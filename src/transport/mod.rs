//! Transports to the peer under test. A [`Target`] is parsed from a URL; a
//! connection is a plain byte stream the runner taps (every read and write
//! becomes bytes with a direction).

use std::time::Duration;

use tokio::net::TcpStream;

/// A byte stream to the peer.
pub type Stream = TcpStream;

/// Where the broker under test listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    pub host: String,
    pub port: u16,
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
}

impl Target {
    /// Parse `mqtt://host[:port]` (port 1883 by default). IPv6 hosts in brackets.
    pub fn parse(url: &str) -> Result<Target, TransportError> {
        let bad = |why: &str| TransportError::BadUrl(url.to_string(), why.to_string());
        let rest = match url.split_once("://") {
            Some(("mqtt", rest)) | Some(("tcp", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "scheme `{scheme}` is not supported (use mqtt://host:port)"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(bad("no host"));
        }
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
                None if after.is_empty() => 1883,
                None => return Err(bad("unexpected text after `]`")),
            };
            (h.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| bad("port is not a number 1-65535"))?,
                ),
                None => (rest.to_string(), 1883),
            }
        };
        if host.is_empty() || port == 0 {
            return Err(bad("need a host and a non-zero port"));
        }
        Ok(Target {
            url: url.to_string(),
            host,
            port,
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

    /// Open a connection, giving up after `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Result<Stream, TransportError> {
        match tokio::time::timeout(timeout, TcpStream::connect(self.addr())).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok(s)
            }
            Ok(Err(e)) => Err(TransportError::Connect(self.addr(), e)),
            Err(_) => Err(TransportError::ConnectTimeout(self.addr(), timeout)),
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
        assert!(Target::parse("mqtt://h:notaport").is_err());
    }
}
