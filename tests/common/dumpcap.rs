//! Loopback recordings with dumpcap (tshark's capture tool) for tests that
//! analyze real traffic. A probe port nothing listens on is recorded too: a
//! connection attempt there is two packets (SYN, RST), and dumpcap's running
//! count on stderr says when it has seen them, so a recording is known to
//! run, and to hold everything sent before the last probe, without waiting
//! blindly.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A running dumpcap on `lo`.
pub struct Recording {
    child: Child,
    counts: Receiver<u64>,
    probe_port: u16,
    seen: u64,
    pub path: PathBuf,
}

impl Recording {
    /// Record TCP `ports` into `dir`/`name`; returns once recording runs.
    pub fn start(dir: &Path, name: &str, ports: &[u16]) -> Recording {
        let path = dir.join(name);
        let probe_port = super::free_port();
        let filter = ports
            .iter()
            .chain([&probe_port])
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut child = Command::new("dumpcap")
            .args(["-i", "lo", "-f", &filter, "-w"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dumpcap (tshark's capture tool) is installed");
        let counts = packet_counts(child.stderr.take().unwrap());
        let seen = probe_until_counted(probe_port, &counts, 0);
        Recording {
            child,
            counts,
            probe_port,
            seen,
            path,
        }
    }

    /// Stop once everything sent so far is recorded; returns the file.
    pub fn stop(mut self) -> PathBuf {
        let latest = self.counts.try_iter().last().unwrap_or(self.seen);
        probe_until_counted(self.probe_port, &self.counts, latest);
        // SIGINT: dumpcap writes what it captured and exits.
        assert!(Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success());
        assert!(self.child.wait().unwrap().success());
        self.path
    }
}

/// dumpcap's running packet counts ("Packets: N" on stderr), as they come.
fn packet_counts(mut stderr: ChildStderr) -> Receiver<u64> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                return;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            while let Some(at) = text.find("Packets: ") {
                let rest = &text[at + 9..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if digits.len() == rest.len() {
                    break; // the number may go on in the next read
                }
                if let Ok(count) = digits.parse() {
                    let _ = tx.send(count);
                }
                text = rest[digits.len()..].to_string();
            }
        }
    });
    rx
}

/// Knock on the probe port until dumpcap's count reaches `after + 2`;
/// returns the count seen. Bounded: 20 attempts of up to 2 s each.
fn probe_until_counted(port: u16, counts: &Receiver<u64>, after: u64) -> u64 {
    for _ in 0..20 {
        let _ = std::net::TcpStream::connect(("127.0.0.1", port));
        while let Ok(count) = counts.recv_timeout(Duration::from_secs(2)) {
            if count >= after + 2 {
                return count;
            }
        }
    }
    panic!("dumpcap did not count the probe");
}
