//! A live connection of a case: the write half, a reader task that frames and
//! records what the server sends, and an inbox of what arrived.

use std::sync::Arc;

use tokio::io::WriteHalf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::recorder::Recorder;
use crate::codec::{Decoded, Framed, Framer};
use crate::event::{ClosedBy, ConnId, Direction};
use crate::transport::Stream;

/// Something the server did.
#[derive(Debug, Clone)]
pub enum Incoming {
    Packet(Arc<Decoded>),
    /// Unframeable bytes (the stream cannot be followed after this).
    Malformed(String),
    /// The server closed (or reset) the connection.
    Closed,
}

/// One open connection.
pub struct Conn {
    pub id: ConnId,
    pub name: String,
    pub client_id: String,
    writer: Option<WriteHalf<Stream>>,
    pub inbox: mpsc::UnboundedReceiver<Incoming>,
    /// Packets received that no step has matched yet (oldest first).
    pub backlog: std::collections::VecDeque<Arc<Decoded>>,
    reader: JoinHandle<()>,
    recorder: Recorder,
    /// The server closed it (seen by the reader, consumed from the inbox or not).
    pub server_closed: bool,
}

impl Conn {
    /// Wrap a fresh stream and start reading.
    pub fn start(id: ConnId, name: &str, stream: Stream, recorder: Recorder) -> Conn {
        let (mut rd, wr) = tokio::io::split(stream);
        let (tx, inbox) = mpsc::unbounded_channel();
        recorder.opened(id);
        let rec = recorder.clone();
        let reader = tokio::spawn(async move {
            let mut framer = Framer::default();
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let (n, why) = match rd.read(&mut buf).await {
                    Ok(n) => (n, None),
                    Err(e) => (0, Some(crate::transport::tls::reason(&e))),
                };
                if n == 0 {
                    if let Some(Framed::Malformed {
                        offset,
                        bytes,
                        error,
                    }) = framer.finish()
                    {
                        rec.malformed(id, Direction::ToClient, offset, &bytes, error);
                    }
                    rec.closed_because(id, ClosedBy::Server, why);
                    let _ = tx.send(Incoming::Closed);
                    return;
                }
                framer.push(&buf[..n]);
                while let Some(f) = framer.next_frame() {
                    match f {
                        Framed::Packet { bytes, .. } => {
                            let d = rec.received(id, bytes);
                            let _ = tx.send(Incoming::Packet(d));
                        }
                        Framed::Malformed {
                            offset,
                            bytes,
                            error,
                        } => {
                            rec.malformed(id, Direction::ToClient, offset, &bytes, error);
                            let _ = tx.send(Incoming::Malformed(error.to_string()));
                        }
                    }
                }
            }
        });
        Conn {
            id,
            name: name.to_string(),
            client_id: String::new(),
            writer: Some(wr),
            inbox,
            backlog: std::collections::VecDeque::new(),
            reader,
            recorder,
            server_closed: false,
        }
    }

    /// Send bytes (recorded first, so the log shows the attempt).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.recorder.sent(self.id, bytes);
        let Some(w) = self.writer.as_mut() else {
            return Err("connection already closed by the suite".into());
        };
        w.write_all(bytes)
            .await
            .map_err(|e| format!("write failed (peer closed?): {e}"))
    }

    /// Close our side: the server sees the connection end without DISCONNECT.
    pub async fn drop_now(&mut self) {
        if self.recorder.is_closed(self.id) {
            self.writer = None;
            return;
        }
        self.recorder.closed(self.id, ClosedBy::Client);
        if let Some(mut w) = self.writer.take() {
            let _ = w.shutdown().await;
        }
        self.reader.abort();
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
