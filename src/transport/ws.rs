//! The WebSocket client handshake of `ws://` and `wss://` targets
//! (tokio-tungstenite over the TCP or TLS stream): offers the subprotocol
//! `mqtt` (MQTT-6.0.0-3) and turns a server that does not select it into
//! [`TransportError::Subprotocol`] (MQTT-6.0.0-4), a verdict rather than a
//! harness failure.

use std::time::Duration;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::WebSocketStream;

use super::{Stream, Target, TransportError};

/// Path of the WebSocket endpoint when the URL gives none.
pub const DEFAULT_PATH: &str = "/mqtt";

/// The subprotocol MQTT over WebSocket uses (MQTT-6.0.0-3, MQTT-6.0.0-4).
pub const SUBPROTOCOL: &str = "mqtt";

/// The statement a server breaks by not selecting [`SUBPROTOCOL`].
pub const SUBPROTOCOL_STATEMENT: &str = "MQTT-6.0.0-4";

/// An open WebSocket connection.
pub type WsStream = WebSocketStream<Stream>;

/// Run the client handshake on `stream`, giving up after `timeout`.
pub async fn handshake(
    target: &Target,
    stream: Stream,
    timeout: Duration,
) -> Result<WsStream, TransportError> {
    let scheme = if target.scheme.uses_tls() {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}{}", target.addr(), target.path);
    let failed = |why: String| TransportError::WsHandshake(target.addr(), why);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| failed(format!("bad request for {url}: {e}")))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let shake = tokio_tungstenite::client_async(request, stream);
    match tokio::time::timeout(timeout, shake).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(e)) => Err(classify(e, &target.addr())),
        Err(_) => Err(failed(format!("no handshake within {timeout:?}"))),
    }
}

/// A handshake error as a transport error; subprotocol refusals are kept apart.
fn classify(e: WsError, addr: &str) -> TransportError {
    let subprotocol = |what: &str| {
        TransportError::Subprotocol(format!(
            "the WebSocket server at {addr} {what}; it must select `{SUBPROTOCOL}`, the one the suite offered"
        ))
    };
    match e {
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(s)) => match s {
            SubProtocolError::NoSubProtocol => subprotocol("selected no subprotocol"),
            SubProtocolError::InvalidSubProtocol => {
                subprotocol("selected a subprotocol other than `mqtt`")
            }
            SubProtocolError::ServerSentSubProtocolNoneRequested => {
                subprotocol("sent a subprotocol that was not requested")
            }
        },
        WsError::Io(io) => TransportError::WsHandshake(addr.to_string(), super::tls::reason(&io)),
        WsError::Http(resp) => TransportError::WsHandshake(
            addr.to_string(),
            format!(
                "the server answered HTTP {} instead of switching to WebSocket",
                resp.status()
            ),
        ),
        other => TransportError::WsHandshake(addr.to_string(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subprotocol_statement_is_in_the_tables() {
        assert!(crate::spec::is_known(SUBPROTOCOL_STATEMENT));
    }

    #[test]
    fn subprotocol_refusals_are_kept_apart_from_other_failures() {
        let e = WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        ));
        let t = classify(e, "127.0.0.1:1");
        assert!(
            matches!(&t, TransportError::Subprotocol(m) if m.contains("selected no subprotocol")),
            "{t}"
        );
        let t = classify(WsError::ConnectionClosed, "127.0.0.1:1");
        assert!(matches!(t, TransportError::WsHandshake(..)), "{t}");
    }
}
