//! The WebSocket handshakes (tokio-tungstenite over the TCP or TLS
//! stream). As a client (`ws://` and `wss://` targets): offers the
//! subprotocol `mqtt` (MQTT-6.0.0-3) and turns a server that does not
//! select it into [`TransportError::Subprotocol`] (MQTT-6.0.0-4), a verdict
//! rather than a harness failure. As a server (`mqttspec serve`,
//! [`accept`]): selects `mqtt`, and refuses a client that does not offer it
//! (MQTT-6.0.0-3) with HTTP 400.

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

/// The statement a client breaks by not offering [`SUBPROTOCOL`].
pub const CLIENT_SUBPROTOCOL_STATEMENT: &str = "MQTT-6.0.0-3";

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

/// Why a client's WebSocket handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptError {
    pub reason: String,
    /// Whether the suite refused it (else the client gave up or sent no
    /// WebSocket request).
    pub by_suite: bool,
    /// The statement the client broke, if that is why it was refused.
    pub statement: Option<&'static str>,
}

/// Run the server handshake on `stream` (any request path): select the
/// subprotocol `mqtt` when the client offers it, refuse the client with
/// HTTP 400 when it does not (MQTT-6.0.0-3).
pub async fn accept(stream: Stream) -> Result<WsStream, AcceptError> {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    // The result type is tungstenite's `Callback` signature, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == SUBPROTOCOL);
        if offered {
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(SUBPROTOCOL),
            );
            return Ok(resp);
        }
        let mut refusal = ErrorResponse::new(Some(format!(
            "the WebSocket subprotocol `{SUBPROTOCOL}` is required\n"
        )));
        *refusal.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST;
        Err(refusal)
    };
    tokio_tungstenite::accept_hdr_async(stream, callback)
        .await
        .map_err(|e| match e {
            WsError::Http(_) => AcceptError {
                reason: format!(
                    "the client did not offer the WebSocket subprotocol `{SUBPROTOCOL}` (the suite answered HTTP 400)"
                ),
                by_suite: true,
                statement: Some(CLIENT_SUBPROTOCOL_STATEMENT),
            },
            WsError::Io(io) => AcceptError {
                reason: format!("WebSocket handshake failed: {io}"),
                by_suite: false,
                statement: None,
            },
            WsError::Protocol(p) => AcceptError {
                reason: format!("not a WebSocket request: {p}"),
                by_suite: true,
                statement: None,
            },
            other => AcceptError {
                reason: format!("WebSocket handshake failed: {other}"),
                by_suite: true,
                statement: None,
            },
        })
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
        assert!(crate::spec::is_known(CLIENT_SUBPROTOCOL_STATEMENT));
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
