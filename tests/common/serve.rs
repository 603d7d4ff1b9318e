//! `mqttspec serve` as a child process listening on a port of its own
//! choosing (read from its first stderr line), with its JSON report and
//! its later stderr lines (progress) on demand.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `mqttspec serve`.
pub struct Served {
    child: Child,
    /// The port from the announcement (the first one with `--port-per-case`).
    pub port: u16,
    /// The first stderr line: where and how it serves.
    pub announced: String,
    json: PathBuf,
    stderr: Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `mqttspec serve --listen mqtt://127.0.0.1:0 --json FILE ARGS…`, run
    /// in the repository root.
    pub fn start(args: &[&str]) -> Served {
        Served::start_on("mqtt://127.0.0.1:0", args)
    }

    /// `mqttspec serve --listen LISTEN --json FILE ARGS…` (LISTEN on
    /// 127.0.0.1, any scheme), run in the repository root.
    pub fn start_on(listen: &str, args: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("report.json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
            .args(["serve", "--listen", listen, "--json"])
            .arg(&json)
            .args(args)
            .current_dir(super::root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first stderr line names the port once the socket listens; the
        // rest is drained (and kept for `stderr_line`) so the child never
        // writes to a closed or full pipe.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let port = line
            .split("://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Served {
            child,
            port,
            announced: line,
            json,
            stderr: rx,
            _dir: dir,
        }
    }

    /// The next stderr line containing `text` (e.g. a case's progress
    /// line), waiting up to `timeout`.
    pub fn stderr_line(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) if l.contains(text) => return l,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {text:?}: {e}"),
            }
        }
    }

    /// `serve --watch`.
    pub fn watch() -> Served {
        Served::start(&["--watch"])
    }

    /// SIGTERM, then [`Served::finish`].
    pub fn stop(self) -> (i32, String, Value) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.finish()
    }

    /// Wait for the exit: its code, the terminal report and the JSON report.
    pub fn finish(mut self) -> (i32, String, Value) {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let report = serde_json::from_slice(&std::fs::read(&self.json).unwrap())
            .unwrap_or_else(|e| panic!("{e}\n{out}"));
        (code, out, report)
    }
}

/// A test that fails before [`Served::stop`] or [`Served::finish`] leaves
/// no `serve` running.
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real client library playing the device of the device cases.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// mosquitto_pub / mosquitto_sub (tests/device/mosquitto-clients.sh).
    MosquittoClients,
    /// The Paho Python client (tests/device/paho-client.py).
    Paho,
}

impl Client {
    /// The driver command, before its options and `{host} …`.
    pub fn driver(self) -> &'static str {
        match self {
            Client::MosquittoClients => "sh tests/device/mosquitto-clients.sh",
            Client::Paho => "/usr/bin/python3 tests/device/paho-client.py",
        }
    }

    /// `--exec` for this client with driver `options` (TLS, WebSocket).
    pub fn exec(self, options: &str) -> String {
        format!(
            "{} {options} {{host}} {{port}} {{client_id}} {{topic}} {{trigger}}",
            self.driver()
        )
    }

    /// Its known-deviations file and its name with version.
    fn deviations(self) -> (String, String) {
        match self {
            Client::MosquittoClients => {
                let v = super::mosquitto_version();
                (
                    format!("mosquitto-clients-{v}.toml"),
                    format!("mosquitto clients {v}"),
                )
            }
            Client::Paho => {
                let v = super::paho_version();
                (format!("paho-mqtt-{v}.toml"), format!("paho-mqtt {v}"))
            }
        }
    }
}

/// A finished run of every device case with `client` as the device: every
/// case passes but the client's real deviations (tests/known-deviations/),
/// and the exit status says whether any case failed.
pub fn assert_passes_but_deviations((code, out, report): (i32, String, Value), client: Client) {
    let cases = report["cases"].as_array().unwrap();
    assert!(cases.len() >= 38, "{out}");
    let (file, name) = client.deviations();
    let known = super::deviations::load(&file);
    let problems = super::deviations::check(&report, &known, &name);
    assert!(problems.is_empty(), "{}\n\n{out}", problems.join("\n"));
    let failed = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(code, if failed == 0 { 0 } else { 1 }, "{out}");
}
