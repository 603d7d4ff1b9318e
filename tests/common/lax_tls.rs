//! A lax TLS broker for testing the suite itself: it terminates TLS with the
//! certificate it is given, asks for no client certificate at all, and
//! forwards the bytes to a plain-TCP broker (a real mosquitto). Every case
//! that expects a broker to refuse a client certificate must fail against it.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The lax TLS front on a free loopback port; stops on drop.
pub struct LaxTls {
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LaxTls {
    /// Serve `cert`/`key` on a free loopback port, forwarding to `upstream`.
    pub fn start(cert: &Path, key: &Path, upstream: u16) -> LaxTls {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let (stop, mut stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => return,
                        accepted = listener.accept() => {
                            let Ok((tcp, _)) = accepted else { continue };
                            tokio::spawn(forward(acceptor.clone(), tcp, upstream));
                        }
                    }
                }
            });
        });
        LaxTls {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("mqtts://127.0.0.1:{}", self.port)
    }
}

/// One connection: TLS in, plain TCP out, bytes copied both ways until
/// either side closes.
async fn forward(acceptor: tokio_rustls::TlsAcceptor, tcp: TcpStream, upstream: u16) {
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return;
    };
    let Ok(mut plain) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
}

impl Drop for LaxTls {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
