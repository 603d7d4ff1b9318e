//! Shared test helpers: a real mosquitto on a free loopback port (plain,
//! TLS or with a WebSocket listener), a silent TCP peer, running the
//! `mqttspec` binary, checking a report against the known deviations, and
//! loopback recordings with dumpcap.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod deviations;
pub mod dumpcap;
pub mod lax_tls;
pub mod serve;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something accepts on `port`, up to `timeout`.
pub fn wait_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(5);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return true;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(100));
    }
    false
}

/// A mosquitto broker started for one test, killed on drop.
pub struct Mosquitto {
    child: Child,
    pub port: u16,
    /// The WebSocket listener's port (see [`Mosquitto::start_websockets`]).
    pub ws_port: Option<u16>,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Start `mosquitto` (Debian package) with our own config on a free port.
    pub fn start() -> Mosquitto {
        Mosquitto::start_with(|port| {
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_keepalive 65535\n"
            )
        })
    }

    /// Start `mosquitto` with the config `conf(port)` on a free port.
    pub fn start_with(conf: impl Fn(u16) -> String) -> Mosquitto {
        Mosquitto::start_on(|port, _| conf(port), false)
    }

    /// Start `mosquitto` with a plain listener on a free port and a
    /// WebSocket listener on another; `ws_extra` is added to the WebSocket
    /// listener's settings (e.g. TLS files).
    ///
    /// Debian's mosquitto 2.0.11 (libwebsockets 4) needs both: with only a
    /// WebSocket listener it exits with "Unable to start any listening
    /// sockets" (libwebsockets keeps that socket outside mosquitto's own
    /// list; mosquitto issues #2284, #2578). Its WebSocket listener takes an
    /// interface name, not an address: `listener PORT 127.0.0.1` listens on
    /// every interface, `listener PORT lo` on loopback only (#3045).
    pub fn start_websockets(ws_extra: &str) -> Mosquitto {
        Mosquitto::start_on(
            |port, ws_port| {
                format!(
                    "user root\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_keepalive 65535\nlistener {ws_port} lo\nprotocol websockets\n{ws_extra}"
                )
            },
            true,
        )
    }

    /// Start with `conf(port, ws_port)`, waiting for the port (and the
    /// WebSocket port when `websockets`).
    fn start_on(conf: impl Fn(u16, u16) -> String, websockets: bool) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let port = free_port();
            let ws_port = free_port();
            let path = dir.path().join("mosquitto.conf");
            std::fs::write(&path, conf(port, ws_port)).unwrap();
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto must be installed (apt-get install -y mosquitto)");
            if wait_port(port, Duration::from_secs(10))
                && (!websockets || wait_port(ws_port, Duration::from_secs(10)))
            {
                return Mosquitto {
                    child,
                    port,
                    ws_port: websockets.then_some(ws_port),
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("mosquitto did not start");
    }

    /// Start `mosquitto` with a TLS listener serving `certs/server.pem` that
    /// requires a client certificate signed by `certs/ca.pem`.
    pub fn start_tls(certs: &Path) -> Mosquitto {
        let d = certs.display().to_string();
        Mosquitto::start_with(move |port| {
            format!(
                "user root\nlistener {port} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\nrequire_certificate true\nallow_anonymous true\npersistence false\nlog_dest none\n"
            )
        })
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP peer that accepts connections and never sends a byte.
pub struct Silent {
    pub port: u16,
    _thread: std::thread::JoinHandle<()>,
}

impl Silent {
    pub fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                held.push(s);
            }
        });
        Silent { port, _thread: t }
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the binary with args in the repository root.
pub fn mqttspec(args: &[&str]) -> Output {
    mqttspec_in(&root(), args)
}

/// Run the binary with args in `dir`.
pub fn mqttspec_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Case ids listed in tests/known-deviations/ for the installed mosquitto.
pub fn known_deviations() -> Vec<String> {
    deviations::load(&format!("mosquitto-{}.toml", mosquitto_version()))
        .deviations
        .into_keys()
        .collect()
}

/// The version of paho-mqtt for /usr/bin/python3 ("1.6.1").
pub fn paho_version() -> String {
    let out = Command::new("/usr/bin/python3")
        .args(["-c", "import paho.mqtt; print(paho.mqtt.__version__)"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "paho-mqtt for /usr/bin/python3 (apt-get install -y python3-paho-mqtt)"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The installed mosquitto's version ("2.0.11"), from `mosquitto -h`.
pub fn mosquitto_version() -> String {
    let out = Command::new("mosquitto").arg("-h").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("unknown")
        .to_string()
}
