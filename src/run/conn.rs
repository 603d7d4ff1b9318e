//! A live connection of a case: the write half, a reader task that frames and
//! records what the server sends, and an inbox of what arrived.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::recorder::Recorder;
use crate::codec::{Decoded, FrameError, Framed, Framer};
use crate::event::ConnId;
use crate::transport::{Chunk, Framing, Link, LinkWriter};

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
    writer: Option<LinkWriter>,
    pub inbox: mpsc::UnboundedReceiver<Incoming>,
    /// Packets received that no step has matched yet (oldest first).
    pub backlog: std::collections::VecDeque<Arc<Decoded>>,
    reader: JoinHandle<()>,
    recorder: Recorder,
    /// The peer (the server in broker mode, the device in device mode)
    /// closed it (seen by the reader, consumed from the inbox or not).
    pub server_closed: bool,
}

impl Conn {
    /// Wrap a fresh link and start reading.
    pub fn start(id: ConnId, name: &str, link: Link, recorder: Recorder) -> Conn {
        let peer = match recorder.peer_closed() {
            crate::event::ClosedBy::Client => "the device",
            _ => "the broker",
        };
        let (mut rd, wr) = link.split_from(peer);
        let (tx, inbox) = mpsc::unbounded_channel();
        recorder.opened(id);
        let rec = recorder.clone();
        let reader = tokio::spawn(async move {
            let mut framer = Framer::default();
            loop {
                let bytes = match rd.next().await {
                    Chunk::Bytes(b) => b,
                    Chunk::Text(t) => {
                        // Not MQTT traffic (MQTT-6.0.0-1): recorded, never framed.
                        let error = FrameError::TextFrame;
                        rec.malformed(id, rec.incoming(), framer.offset(), &t, error);
                        let _ = tx.send(Incoming::Malformed(error.to_string()));
                        continue;
                    }
                    Chunk::End(why) => {
                        if let Some(Framed::Malformed {
                            offset,
                            bytes,
                            error,
                        }) = framer.finish()
                        {
                            rec.malformed(id, rec.incoming(), offset, &bytes, error);
                        }
                        rec.closed_because(id, rec.peer_closed(), why);
                        let _ = tx.send(Incoming::Closed);
                        return;
                    }
                };
                framer.push(&bytes);
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
                            rec.malformed(id, rec.incoming(), offset, &bytes, error);
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

    /// Send bytes framed as `framing` says (recorded first, so the log shows
    /// the attempt; bytes in a text frame are recorded as not MQTT traffic).
    pub async fn send(&mut self, bytes: &[u8], framing: &Framing) -> Result<(), String> {
        match framing {
            Framing::Text => self.recorder.sent_text(self.id, bytes),
            Framing::Whole | Framing::Split(_) | Framing::JoinNext => {
                self.recorder.sent(self.id, bytes)
            }
        }
        let Some(w) = self.writer.as_mut() else {
            return Err("connection already closed by the suite".into());
        };
        w.write(bytes, framing).await
    }

    /// Close our side: the server sees the connection end without DISCONNECT.
    pub async fn drop_now(&mut self) {
        if self.recorder.is_closed(self.id) {
            self.writer = None;
            return;
        }
        self.recorder.closed(self.id, self.recorder.we_closed());
        if let Some(mut w) = self.writer.take() {
            w.shutdown().await;
        }
        self.reader.abort();
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
