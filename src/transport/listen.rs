//! The suite as a server (`mqttspec serve`): a TCP listener and, for each
//! accepted connection, the handshakes its scheme calls for — TLS for
//! `mqtts://` and `wss://`, the server's WebSocket handshake for `ws://` and
//! `wss://` — ending in a [`Link`], or in a [`Refused`] that says who ended
//! the connection and why (a TLS alert, a refused client certificate, a
//! WebSocket client that did not offer `mqtt`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::tls_server::{describe, Failure};
use super::{ws, Link, Scheme, Stream, Target};
use crate::event::ClosedBy;

/// How long a client may take over its TLS and WebSocket handshakes.
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// A listening socket and what each connection goes through.
pub struct Listener {
    tcp: TcpListener,
    scheme: Scheme,
    tls: Option<TlsAcceptor>,
    /// HTTP path shown in the URL of `ws://` and `wss://` listeners.
    path: String,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.url())
    }
}

/// A connection after its handshakes.
pub struct Accepted {
    pub link: Link,
    /// What the TLS handshake settled on ("TLS 1.3, client certificate
    /// verified"), for TLS connections.
    pub tls: Option<String>,
}

/// A connection that did not get past its handshakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The suite (server) refused it, or the client gave up.
    pub by: ClosedBy,
    pub reason: String,
    /// The statement the client broke, when that is why it was refused
    /// (a WebSocket client that did not offer `mqtt`: MQTT-6.0.0-3).
    pub statement: Option<&'static str>,
}

impl From<Failure> for Refused {
    fn from(f: Failure) -> Refused {
        Refused {
            by: f.by,
            reason: f.reason,
            statement: None,
        }
    }
}

/// Why the suite cannot listen.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0} needs the suite's TLS certificate and key")]
    NoTls(String),
}

impl Listener {
    /// Listen on `target`'s host and port (0: any free port). TLS schemes
    /// need `tls`; plain ones ignore it.
    pub async fn bind(
        target: &Target,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Listener, ListenError> {
        let tls = match (target.scheme.uses_tls(), tls) {
            (false, _) => None,
            (true, Some(config)) => Some(TlsAcceptor::from(config)),
            (true, None) => return Err(ListenError::NoTls(target.url.clone())),
        };
        let tcp = TcpListener::bind(target.addr())
            .await
            .map_err(|source| ListenError::Bind {
                addr: target.addr(),
                source,
            })?;
        Ok(Listener {
            tcp,
            scheme: target.scheme,
            tls,
            path: target.path.clone(),
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The port listened on (0 if the socket cannot say).
    pub fn port(&self) -> u16 {
        self.tcp.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// `mqtts://127.0.0.1:8883`-style URL of where the suite listens.
    pub fn url(&self) -> String {
        let addr = self
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        format!("{}://{addr}{}", self.scheme.name(), self.path)
    }

    /// Like [`Listener::url`] for a run of listeners on consecutive ports
    /// ending at `last`: `mqtt://127.0.0.1:20000-20023`.
    pub fn url_to(&self, last: u16) -> String {
        match self.local_addr() {
            Ok(a) => format!(
                "{}://{}:{}-{last}{}",
                self.scheme.name(),
                if a.is_ipv6() {
                    format!("[{}]", a.ip())
                } else {
                    a.ip().to_string()
                },
                a.port(),
                self.path
            ),
            Err(_) => self.url(),
        }
    }

    /// The next TCP connection; [`Listener::handshake`] makes it a link.
    pub async fn accept(&self) -> std::io::Result<(TcpStream, SocketAddr)> {
        self.tcp.accept().await
    }

    /// Close the connections already waiting in the listen queue (a device
    /// left from an earlier case is not the next case's device).
    pub async fn drop_queued(&self) {
        while let Ok(Ok(_stale)) = tokio::time::timeout(Duration::ZERO, self.accept()).await {}
    }

    /// Take `tcp` through the handshakes of the scheme, within `timeout`.
    pub async fn handshake(&self, tcp: TcpStream, timeout: Duration) -> Result<Accepted, Refused> {
        let _ = tcp.set_nodelay(true);
        match tokio::time::timeout(timeout, self.handshakes(tcp)).await {
            Ok(r) => r,
            Err(_) => Err(Refused {
                by: ClosedBy::Server,
                reason: format!(
                    "the client did not complete its {} handshake within {} s",
                    if self.tls.is_some() {
                        "TLS"
                    } else {
                        "WebSocket"
                    },
                    timeout.as_secs()
                ),
                statement: None,
            }),
        }
    }

    async fn handshakes(&self, tcp: TcpStream) -> Result<Accepted, Refused> {
        let (stream, tls): (Stream, Option<String>) = match &self.tls {
            None => (Box::new(tcp), None),
            Some(acceptor) => {
                let mut first = [0u8; 1];
                match tcp.peek(&mut first).await {
                    Ok(0) => {
                        return Err(Refused {
                            by: ClosedBy::Client,
                            reason: "the client closed the connection before the TLS handshake"
                                .into(),
                            statement: None,
                        })
                    }
                    Ok(_) => {
                        if let Some(f) = Failure::not_tls(first[0]) {
                            return Err(f.into());
                        }
                    }
                    Err(e) => return Err(Failure::of(&e).into()),
                }
                match acceptor.accept(tcp).await {
                    Ok(s) => {
                        let what = describe(s.get_ref().1);
                        (Box::new(s), Some(what))
                    }
                    Err(e) => return Err(Failure::of(&e).into()),
                }
            }
        };
        if !self.scheme.is_websocket() {
            return Ok(Accepted {
                link: Link::Stream(stream),
                tls,
            });
        }
        match ws::accept(stream).await {
            Ok(w) => Ok(Accepted {
                link: Link::Ws(Box::new(w)),
                tls,
            }),
            Err(e) => Err(Refused {
                by: if e.by_suite {
                    ClosedBy::Server
                } else {
                    ClosedBy::Client
                },
                reason: e.reason,
                statement: e.statement,
            }),
        }
    }
}
