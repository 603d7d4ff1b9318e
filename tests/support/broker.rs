//! An in-process MQTT 3.1.1 broker on an ephemeral loopback port,
//! conformant by default, with [`Faults`] switching single behaviors off.

use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::conn;
use super::faults::Faults;
use super::session::State;

/// A running broker; stops accepting when dropped.
pub struct Broker {
    pub port: u16,
    accept: JoinHandle<()>,
}

impl Broker {
    /// Start a broker with `faults` on 127.0.0.1 (any free port).
    pub async fn start(faults: Faults) -> std::io::Result<Broker> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State::new(faults)));
        let accept = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                conns.spawn(conn::serve(stream, state.clone()));
                while conns.try_join_next().is_some() {}
            }
        });
        Ok(Broker { port, accept })
    }

    /// The broker's URL.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection.
        self.accept.abort();
    }
}
