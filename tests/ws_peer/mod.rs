//! A WebSocket front for testing the suite itself: accepts WebSocket
//! connections on a free loopback port and forwards the MQTT bytes to a
//! broker over TCP (and its answers back in binary frames). Conformant by
//! default; one [`WsFault`] breaks one statement of section 6.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use mqttspec::codec::{peek_length, Length};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What the front does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsFault {
    /// Nothing: selects `mqtt`, reassembles packets across frames, closes
    /// on a text frame.
    None,
    /// Selects no subprotocol (breaks MQTT-6.0.0-4).
    NoSubprotocol,
    /// Selects `mqttv3.1` although the client offered `mqtt` only
    /// (breaks MQTT-6.0.0-4).
    OtherSubprotocol,
    /// Drops text frames and keeps the connection open (breaks MQTT-6.0.0-1).
    IgnoreText,
    /// Assumes every binary frame holds whole packets and closes the
    /// connection when one does not (breaks MQTT-6.0.0-2).
    FrameAligned,
    /// Takes only the first packet of each binary frame (breaks MQTT-6.0.0-2).
    FirstPacketOnly,
    /// Sends the broker's answers in text frames (breaks MQTT-6.0.0-1).
    TextReplies,
}

/// A running front; stops accepting when dropped.
pub struct WsFront {
    pub port: u16,
    accept: JoinHandle<()>,
}

impl WsFront {
    /// Start a front on 127.0.0.1 (any free port) for the broker at `backend`.
    pub async fn start(backend: SocketAddr, fault: WsFault) -> std::io::Result<WsFront> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accept = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                conns.spawn(serve(tcp, backend, fault));
                while conns.try_join_next().is_some() {}
            }
        });
        Ok(WsFront { port, accept })
    }

    /// The front's URL.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/mqtt", self.port)
    }
}

impl Drop for WsFront {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        self.accept.abort();
    }
}

type Ws = WebSocketStream<TcpStream>;

/// How a connection ended.
enum End {
    /// The broker or the client went away.
    Gone,
    /// The client broke the protocol: close with this code.
    Refused(CloseCode),
}

async fn serve(tcp: TcpStream, backend: SocketAddr, fault: WsFault) {
    let _ = tcp.set_nodelay(true);
    // The callback's signature is tokio-tungstenite's.
    #[allow(clippy::result_large_err)]
    let select = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|p| p.trim() == "mqtt"));
        let chosen = match fault {
            WsFault::NoSubprotocol => None,
            WsFault::OtherSubprotocol => Some("mqttv3.1"),
            _ => offered.then_some("mqtt"),
        };
        if let Some(p) = chosen {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
        }
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, select).await else {
        return;
    };
    let Ok(up) = TcpStream::connect(backend).await else {
        return;
    };
    let _ = up.set_nodelay(true);
    let (mut up_r, mut up_w) = up.into_split();
    let (mut ws_w, mut ws_r) = ws.split();
    let end = tokio::select! {
        e = to_broker(&mut ws_r, &mut up_w, fault) => e,
        e = to_client(&mut up_r, &mut ws_w, fault) => e,
    };
    if let End::Refused(code) = end {
        let close = CloseFrame {
            code,
            reason: "".into(),
        };
        let _ = ws_w.send(Message::Close(Some(close))).await;
    }
    let _ = up_w.shutdown().await;
}

async fn to_broker(
    ws: &mut futures_util::stream::SplitStream<Ws>,
    up: &mut OwnedWriteHalf,
    fault: WsFault,
) -> End {
    while let Some(msg) = ws.next().await {
        let bytes = match msg {
            Ok(Message::Binary(b)) => b,
            Ok(Message::Text(_)) if fault == WsFault::IgnoreText => continue,
            Ok(Message::Text(_)) => return End::Refused(CloseCode::Unsupported),
            Ok(Message::Close(_)) | Err(_) => return End::Gone,
            Ok(_) => continue,
        };
        let forward = match fault {
            WsFault::FrameAligned if packets_end(&bytes) != Some(bytes.len()) => {
                return End::Refused(CloseCode::Protocol);
            }
            WsFault::FirstPacketOnly => match first_packet_len(&bytes) {
                Some(n) => &bytes[..n],
                None => &bytes[..],
            },
            _ => &bytes[..],
        };
        if up.write_all(forward).await.is_err() {
            return End::Gone;
        }
    }
    End::Gone
}

async fn to_client(
    up: &mut OwnedReadHalf,
    ws: &mut futures_util::stream::SplitSink<Ws, Message>,
    fault: WsFault,
) -> End {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match up.read(&mut buf).await {
            Ok(0) | Err(_) => return End::Refused(CloseCode::Normal),
            Ok(n) => n,
        };
        let payload = bytes::Bytes::copy_from_slice(&buf[..n]);
        let msg = if fault == WsFault::TextReplies {
            Message::Frame(Frame::message(payload, OpCode::Data(Data::Text), true))
        } else {
            Message::Binary(payload)
        };
        if ws.send(msg).await.is_err() {
            return End::Gone;
        }
    }
}

/// Where the whole packets at the start of `b` end (None: `b` starts inside
/// a packet that does not end in `b`).
fn packets_end(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos < b.len() {
        pos += first_packet_len(&b[pos..])?;
    }
    Some(pos)
}

/// The length of the whole packet at the start of `b`, if it is all there.
fn first_packet_len(b: &[u8]) -> Option<usize> {
    match peek_length(b) {
        Length::Known { value, header_len } => {
            let n = header_len + value as usize;
            (n <= b.len()).then_some(n)
        }
        Length::NeedMore | Length::TooLong => None,
    }
}
