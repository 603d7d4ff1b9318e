//! `mqttspec serve` as a child process listening on a port of its own
//! choosing (read from its first stderr line), with its JSON report.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running `mqttspec serve`.
pub struct Served {
    child: Child,
    pub port: u16,
    json: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `mqttspec serve --listen mqtt://127.0.0.1:0 --json FILE ARGS…`, run
    /// in the repository root.
    pub fn start(args: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("report.json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
            .args(["serve", "--listen", "mqtt://127.0.0.1:0", "--json"])
            .arg(&json)
            .args(args)
            .current_dir(super::root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first stderr line names the port once the socket listens; the
        // rest is drained so the child never writes to a closed or full pipe.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let port = line
            .split("mqtt://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Served {
            child,
            port,
            json,
            _dir: dir,
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
