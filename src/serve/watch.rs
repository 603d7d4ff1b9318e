//! Watch mode I/O: listen, accept any number of clients (over TCP, TLS or
//! WebSocket: each connection goes through its [`Listener`]'s handshakes
//! first, and one that fails is reported with the reason), let the
//! [`Broker`] answer them, and judge every connection passively with the
//! client rules. Stops when the given future resolves (duration elapsed,
//! Ctrl-C, SIGTERM) and returns the report of every connection seen.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::broker::{Broker, Out};
use super::judge::{ConnReport, Judge};
use crate::codec::{self, FrameError, Framed, Framer, Packet};
use crate::event::{ClosedBy, ConnId, Direction};
use crate::sync::lock;
use crate::transport::{Chunk, Framing, LinkReader, LinkWriter, Listener, HANDSHAKE_WAIT};

/// How long a new connection may stay silent before its CONNECT.
pub const CONNECT_WAIT: Duration = Duration::from_secs(30);
/// How long the client may keep the connection open after its DISCONNECT
/// before the broker closes it (the client is the one to close).
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(1);

/// The report of a watch.
#[derive(Debug, Clone, Serialize)]
pub struct WatchReport {
    /// The address listened on.
    pub listen: String,
    /// Seconds the watch lasted.
    pub duration: f64,
    /// Why it stopped ("duration", "interrupted", "terminated").
    pub stopped_by: String,
    pub connections: Vec<ConnReport>,
}

impl WatchReport {
    /// Findings over all connections.
    pub fn findings(&self) -> usize {
        self.connections.iter().map(|c| c.findings.len()).sum()
    }

    /// Connections that did not get past their TLS or WebSocket handshake.
    pub fn refused(&self) -> usize {
        self.connections
            .iter()
            .filter(|c| c.refused.is_some())
            .count()
    }
}

/// What a connection's writer is told.
enum Cmd {
    Send(Box<Packet>),
    Close,
}

/// State shared by the connection tasks.
#[derive(Default)]
struct Hub {
    broker: Mutex<Broker>,
    writers: Mutex<HashMap<ConnId, UnboundedSender<Cmd>>>,
}

impl Hub {
    fn dispatch(&self, outs: Vec<Out>) {
        let writers = lock(&self.writers);
        for o in outs {
            let (conn, cmd) = match o {
                Out::Send(c, p) => (c, Cmd::Send(p)),
                Out::Close(c) => (c, Cmd::Close),
            };
            if let Some(w) = writers.get(&conn) {
                // A closed connection's writer is gone: nothing to deliver to.
                let _ = w.send(cmd);
            }
        }
    }

    fn broker<R>(&self, f: impl FnOnce(&mut Broker) -> R) -> R {
        f(&mut lock(&self.broker))
    }
}

/// Listen on `listener` until `stop` resolves with the reason; judge every client.
pub async fn watch(
    listener: Listener,
    stop: impl Future<Output = String>,
) -> std::io::Result<WatchReport> {
    let listen = listener.url();
    let listener = Arc::new(listener);
    let start = Instant::now();
    let hub = Arc::new(Hub::default());
    let mut judges: Vec<Judge> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next: ConnId = 0;
    tokio::pin!(stop);
    let stopped_by = loop {
        tokio::select! {
            why = &mut stop => break why,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    // A failed accept (e.g. the client reset first) is not fatal.
                    Err(_) => continue,
                };
                let id = next;
                next = next.wrapping_add(1);
                let judge = Judge::opened(id, peer, start);
                judges.push(judge.clone());
                tasks.spawn(connection(id, stream, listener.clone(), judge, hub.clone()));
            }
        }
    };
    drop(listener);
    // Connections still open at the end stay open in the report (but a
    // close the server already sent counts); their writers end (and their
    // sockets close) once their senders are gone.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    lock(&hub.writers).clear();
    for judge in &judges {
        judge.settle();
    }
    Ok(WatchReport {
        listen,
        duration: (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        stopped_by,
        connections: judges.iter().map(Judge::report).collect(),
    })
}

/// One client connection: its handshakes, then a writer task and this
/// reader loop.
async fn connection(
    id: ConnId,
    stream: TcpStream,
    listener: Arc<Listener>,
    judge: Judge,
    hub: Arc<Hub>,
) {
    let accepted = match listener.handshake(stream, HANDSHAKE_WAIT).await {
        Ok(a) => a,
        Err(refused) => {
            judge.refused(refused);
            return;
        }
    };
    if let Some(tls) = accepted.tls {
        judge.tls(tls);
    }
    let (rd, wr) = accepted.link.split_from("the client");
    let (tx, rx) = mpsc::unbounded_channel();
    lock(&hub.writers).insert(id, tx);
    let (closing_tx, closing_rx) = tokio::sync::oneshot::channel();
    let writer = tokio::spawn(write_loop(wr, rx, judge.clone(), closing_tx));
    let graceful = read_loop(id, rd, &judge, &hub, closing_rx).await;
    lock(&hub.writers).remove(&id);
    let outs = hub.broker(|b| b.closed(id, graceful));
    hub.dispatch(outs);
    // The writer ends once its sender is gone (after sending what was queued).
    let _ = writer.await;
}

/// Reads, frames and judges what the client sends and lets the broker
/// answer. Returns whether the client had sent DISCONNECT.
async fn read_loop(
    id: ConnId,
    mut rd: LinkReader,
    judge: &Judge,
    hub: &Hub,
    mut closing: tokio::sync::oneshot::Receiver<()>,
) -> bool {
    let mut framer = Framer::default();
    let mut wait = CONNECT_WAIT;
    let mut connected = false;
    let mut disconnected = false;
    let mut writer_gone = false;
    loop {
        // The server's close is looked at first: the writer signals it
        // before its FIN leaves, so a client that closes on seeing that FIN
        // cannot be taken for the one who closed.
        let read = tokio::select! {
            biased;
            closed = &mut closing, if !writer_gone => match closed {
                // The server closed (protocol violation, takeover, DISCONNECT).
                Ok(()) => {
                    judge.closed(ClosedBy::Server);
                    return disconnected;
                }
                // The writer ended on a failed write: the client's end is
                // gone, which the next read tells.
                Err(_) => {
                    writer_gone = true;
                    continue;
                }
            },
            r = tokio::time::timeout(wait, rd.next()) => r,
        };
        let bytes = match read {
            Ok(Chunk::Bytes(b)) => b,
            Ok(Chunk::Text(t)) => {
                // Not MQTT traffic (MQTT-6.0.0-1): judged, never framed, and
                // the connection is closed as a receiver must.
                let error = FrameError::TextFrame;
                judge.malformed(Direction::ToServer, framer.offset(), t.len(), error);
                hub.dispatch(vec![Out::Close(id)]);
                // Nothing more is read: the writer closes and says so (or
                // is gone already).
                if !writer_gone {
                    let _ = (&mut closing).await;
                }
                judge.closed(ClosedBy::Server);
                return disconnected;
            }
            Ok(Chunk::End(_)) => {
                if let Some(Framed::Malformed {
                    offset,
                    bytes,
                    error,
                }) = framer.finish()
                {
                    judge.malformed(Direction::ToServer, offset, bytes.len(), error);
                }
                judge.closed(ClosedBy::Client);
                return disconnected;
            }
            Err(_) => {
                // Keep alive × 1.5 (or the CONNECT wait, or the grace after
                // DISCONNECT) without a byte.
                hub.dispatch(vec![Out::Close(id)]);
                continue;
            }
        };
        framer.push(&bytes);
        while let Some(f) = framer.next_frame() {
            match f {
                Framed::Packet { bytes, .. } => {
                    let d = judge.packet(Direction::ToServer, bytes);
                    let outs = match (&d.packet, connected) {
                        (Packet::Connect(c), false) => {
                            connected = true;
                            if c.keep_alive > 0 {
                                wait = Duration::from_millis(u64::from(c.keep_alive) * 1500);
                            } else {
                                wait = Duration::from_secs(u64::from(u32::MAX));
                            }
                            hub.broker(|b| b.connect(id, c))
                        }
                        // MQTT-3.1.0-1: anything before CONNECT closes the connection.
                        (_, false) => vec![Out::Close(id)],
                        // A malformed packet is a protocol violation: the
                        // connection is closed, never answered (MQTT-4.8.0-1,
                        // MQTT-4.13.1-1), so that no answer can carry the
                        // client's fault (a PUBACK for packet id 0, say).
                        (_, true) if !d.violations.is_empty() => vec![Out::Close(id)],
                        (p, true) => {
                            if matches!(p, Packet::Disconnect(_)) {
                                disconnected = true;
                                wait = DISCONNECT_GRACE;
                            }
                            hub.broker(|b| b.packet(id, p))
                        }
                    };
                    hub.dispatch(outs);
                }
                Framed::Malformed {
                    offset,
                    bytes,
                    error,
                } => {
                    judge.malformed(Direction::ToServer, offset, bytes.len(), error);
                    hub.dispatch(vec![Out::Close(id)]);
                }
            }
        }
    }
}

/// Encodes and writes what the broker sends, judging each packet as it
/// goes out; on Close, shuts the connection down and tells the reader.
async fn write_loop(
    mut wr: LinkWriter,
    mut rx: UnboundedReceiver<Cmd>,
    judge: Judge,
    closing: tokio::sync::oneshot::Sender<()>,
) {
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Cmd::Send(p) => {
                let bytes = bytes::Bytes::from(codec::encode(&p, judge.version()));
                // Judged before it is written: the client's answer may be
                // read before this task runs again.
                judge.packet(Direction::ToClient, bytes.clone());
                if wr.write(&bytes, &Framing::Whole).await.is_err() {
                    return;
                }
            }
            Cmd::Close => {
                // Told before the FIN is sent, so the reader (or, if the
                // watch ends first, the report) knows who closed.
                judge.server_closing();
                let _ = closing.send(());
                wr.shutdown().await;
                return;
            }
        }
    }
}
