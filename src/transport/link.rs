//! An open connection as the runner uses it: a [`LinkReader`] that yields
//! what the peer sent ([`Chunk`]s of MQTT bytes, WebSocket text frames, the
//! end) and a [`LinkWriter`] that sends bytes, cut into WebSocket frames as
//! a [`Framing`] says. TCP and TLS links are byte streams; WebSocket links
//! carry MQTT in binary frames (MQTT-6.0.0-1), answer pings by themselves
//! and end when the server sends a Close frame.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::ws::WsStream;
use super::Stream;

/// A connection before it is split into its reading and writing halves.
pub enum Link {
    /// TCP or TLS: a byte stream.
    Stream(Stream),
    /// WebSocket (over TCP or TLS), after the handshake.
    Ws(Box<WsStream>),
}

/// How the bytes of one write are put into WebSocket frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Framing {
    /// One binary frame (on TCP and TLS: just the bytes).
    #[default]
    Whole,
    /// Consecutive binary frames of these sizes; what is left over goes in
    /// one last frame. WebSocket only.
    Split(Vec<usize>),
    /// One text frame (not allowed for MQTT: MQTT-6.0.0-1). WebSocket only.
    Text,
    /// Held back and sent at the start of the next write, in the same
    /// frame(s). WebSocket only.
    JoinNext,
}

/// Something the peer sent.
#[derive(Debug)]
pub enum Chunk {
    /// MQTT bytes: a stream read, or the payload of a binary frame.
    Bytes(Bytes),
    /// The payload of a WebSocket text frame (MQTT-6.0.0-1 forbids them).
    Text(Bytes),
    /// The peer ended the connection; the transport's reason, if any.
    End(Option<String>),
}

/// The reading half of a [`Link`], with how reasons name the peer ("the
/// broker", "the device").
pub enum LinkReader {
    Stream(ReadHalf<Stream>, Box<[u8]>, &'static str),
    Ws(SplitStream<WsStream>, &'static str),
}

/// The writing half of a [`Link`].
pub enum LinkWriter {
    Stream(WriteHalf<Stream>),
    /// The WebSocket sink and the bytes held for the next write.
    Ws(SplitSink<WsStream, Message>, Vec<u8>),
}

/// How long a WebSocket Close frame may take to go out when we close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

const READ_BUFFER: usize = 16 * 1024;

impl Link {
    /// Split into halves that can be used from different tasks; the
    /// peer is a broker.
    pub fn split(self) -> (LinkReader, LinkWriter) {
        self.split_from("the broker")
    }

    /// Split into halves; the reader's reasons name the peer as `peer`.
    pub fn split_from(self, peer: &'static str) -> (LinkReader, LinkWriter) {
        match self {
            Link::Stream(s) => {
                let (r, w) = tokio::io::split(s);
                (
                    LinkReader::Stream(r, vec![0u8; READ_BUFFER].into_boxed_slice(), peer),
                    LinkWriter::Stream(w),
                )
            }
            Link::Ws(ws) => {
                let (w, r) = (*ws).split();
                (LinkReader::Ws(r, peer), LinkWriter::Ws(w, Vec::new()))
            }
        }
    }
}

impl LinkReader {
    /// The next thing the peer sent (after [`Chunk::End`], only more ends).
    pub async fn next(&mut self) -> Chunk {
        match self {
            LinkReader::Stream(r, buf, peer) => match r.read(buf).await {
                Ok(0) => Chunk::End(None),
                Ok(n) => Chunk::Bytes(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => Chunk::End(Some(super::tls::reason_from(&e, peer))),
            },
            LinkReader::Ws(r, peer) => loop {
                match r.next().await {
                    Some(Ok(Message::Binary(b))) => return Chunk::Bytes(b),
                    Some(Ok(Message::Text(t))) => return Chunk::Text(Bytes::from(t)),
                    Some(Ok(Message::Close(frame))) => {
                        let why = match frame {
                            Some(f) if f.reason.is_empty() => {
                                format!("WebSocket Close {}", u16::from(f.code))
                            }
                            Some(f) => {
                                format!("WebSocket Close {} {}", u16::from(f.code), f.reason)
                            }
                            None => "WebSocket Close".to_string(),
                        };
                        return Chunk::End(Some(why));
                    }
                    // Pings are answered by the library; pongs and raw frames
                    // (never produced when reading) carry no MQTT bytes.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    // A text frame whose payload is not UTF-8: still a text
                    // frame (the library drops its payload).
                    Some(Err(WsError::Utf8(_))) => return Chunk::Text(Bytes::new()),
                    Some(Err(e)) => return Chunk::End(Some(ws_reason(e, peer))),
                    None => return Chunk::End(None),
                }
            },
        }
    }
}

impl LinkWriter {
    /// Send `bytes` framed as `framing` says.
    pub async fn write(&mut self, bytes: &[u8], framing: &Framing) -> Result<(), String> {
        match self {
            LinkWriter::Stream(w) => {
                if *framing != Framing::Whole {
                    return Err("WebSocket framing needs a ws:// or wss:// target".into());
                }
                w.write_all(bytes)
                    .await
                    .map_err(|e| format!("write failed (peer closed?): {e}"))
            }
            LinkWriter::Ws(w, held) => {
                held.extend_from_slice(bytes);
                if *framing == Framing::JoinNext {
                    return Ok(());
                }
                let bytes = std::mem::take(held);
                let sent = async {
                    for m in messages(&bytes, framing) {
                        w.feed(m).await?;
                    }
                    w.flush().await
                };
                match sent.await {
                    // The peer closed first (its Close frame or the end of
                    // the stream was read): as with a TCP write after the
                    // peer's FIN, the bytes go nowhere and the reader
                    // reports the close.
                    Ok(())
                    | Err(
                        WsError::AlreadyClosed
                        | WsError::ConnectionClosed
                        | WsError::Protocol(ProtocolError::SendAfterClosing),
                    ) => Ok(()),
                    Err(e) => Err(ws_write_error(e)),
                }
            }
        }
    }

    /// Close our side: shut the stream down, or send a WebSocket Close frame.
    pub async fn shutdown(&mut self) {
        match self {
            LinkWriter::Stream(w) => {
                let _ = w.shutdown().await;
            }
            LinkWriter::Ws(w, _) => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, w.close()).await;
            }
        }
    }
}

/// The WebSocket messages one write becomes.
fn messages(bytes: &[u8], framing: &Framing) -> Vec<Message> {
    match framing {
        Framing::Whole | Framing::JoinNext => {
            vec![Message::Binary(Bytes::copy_from_slice(bytes))]
        }
        Framing::Text => vec![Message::Frame(Frame::message(
            Bytes::copy_from_slice(bytes),
            OpCode::Data(Data::Text),
            true,
        ))],
        Framing::Split(sizes) => split(bytes, sizes)
            .into_iter()
            .map(|part| Message::Binary(Bytes::copy_from_slice(part)))
            .collect(),
    }
}

/// Cut `bytes` into parts of `sizes` and the remainder; no empty part
/// (unless `bytes` is empty: then one empty part).
pub fn split<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    for &n in sizes {
        if rest.is_empty() {
            break;
        }
        let (part, after) = rest.split_at(n.min(rest.len()));
        if !part.is_empty() {
            parts.push(part);
        }
        rest = after;
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest);
    }
    parts
}

fn ws_write_error(e: WsError) -> String {
    format!("write failed (peer closed?): {}", ws_reason(e, "the peer"))
}

fn ws_reason(e: WsError, peer: &str) -> String {
    match e {
        WsError::Io(io) => super::tls::reason_from(&io, peer),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cuts_by_sizes_and_keeps_the_rest() {
        let b = [1u8, 2, 3, 4, 5, 6, 7];
        assert_eq!(split(&b, &[2, 3]), vec![&b[..2], &b[2..5], &b[5..]]);
        assert_eq!(split(&b, &[7]), vec![&b[..]]);
        assert_eq!(split(&b, &[5, 10]), vec![&b[..5], &b[5..]]);
        assert_eq!(split(&b, &[]), vec![&b[..]]);
        let empty: &[u8] = &[];
        assert_eq!(split(empty, &[1]), vec![empty]);
        assert_eq!(split(&b, &[0, 1]), vec![&b[..1], &b[1..]]);
    }

    /// A server-side WebSocket link whose client is gone: closed with a
    /// Close frame (`clean`) or dropped without one.
    async fn closed_by_peer(clean: bool) -> Link {
        let (a, b) = tokio::io::duplex(4096);
        let server = tokio::spawn(tokio_tungstenite::accept_async(Box::new(a) as Stream));
        let (mut client, _) = tokio_tungstenite::client_async("ws://x/mqtt", Box::new(b) as Stream)
            .await
            .unwrap();
        let ws = server.await.unwrap().unwrap();
        if clean {
            client.close(None).await.unwrap();
        }
        drop(client);
        Link::Ws(Box::new(ws))
    }

    #[tokio::test]
    async fn writing_after_the_peer_closed_is_not_an_error() {
        for clean in [true, false] {
            let (mut rd, mut wr) = closed_by_peer(clean).await.split();
            assert!(matches!(rd.next().await, Chunk::End(_)));
            // As on TCP after the peer's FIN: the bytes go nowhere.
            assert_eq!(wr.write(&[0xc0, 0x00], &Framing::Whole).await, Ok(()));
        }
    }

    #[test]
    fn framing_decides_the_messages() {
        let b = [0xc0u8, 0x00, 0xc0, 0x00];
        assert_eq!(messages(&b, &Framing::Whole).len(), 1);
        let parts = messages(&b, &Framing::Split(vec![1, 1]));
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[2], Message::Binary(p) if p.as_ref() == [0xc0, 0x00]));
        let text = messages(&b, &Framing::Text);
        assert!(
            matches!(&text[0], Message::Frame(f) if f.header().opcode == OpCode::Data(Data::Text))
        );
    }
}
