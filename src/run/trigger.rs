//! Device-case triggers: how a case makes the device act. `--exec CMD` is a
//! shell command run when a case's first `accept` step starts waiting, with
//! `{host}`, `{port}`, `{client_id}`, `{topic}`, `{case}` and `{trigger}`
//! replaced (for client programs such as mosquitto_pub/sub or a firmware
//! test binary); it is killed when the case ends, with every process it
//! started (it runs in a process group of its own: a client library left
//! running would reconnect into later cases). Without `--exec` the device
//! is expected to connect by itself.
//!
//! A program that cannot make its device do what a trigger asks (e.g. a
//! client that cannot reconnect) exits with [`NOT_APPLICABLE`] before the
//! device connects; the case is then skipped as not applicable, with the
//! last line the program wrote on stderr as the reason.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr, Command};
use tokio::task::JoinHandle;

/// Exit status of an `--exec` program that cannot play the trigger (the
/// "skipped" status of automake's test drivers).
pub const NOT_APPLICABLE: i32 = 77;

/// How much of the program's stderr is kept (its end).
const STDERR_TAIL: usize = 2048;

/// Values a command template can use.
pub struct Vars<'a> {
    pub host: &'a str,
    pub port: u16,
    pub client_id: &'a str,
    /// The case's topic prefix (`{t}` in case files).
    pub topic: &'a str,
    pub case: &'a str,
    /// The case's abstract trigger (e.g. "publish qos=1"), or "".
    pub trigger: &'a str,
}

/// Fill a command template.
pub fn expand(template: &str, v: &Vars<'_>) -> String {
    template
        .replace("{host}", v.host)
        .replace("{port}", &v.port.to_string())
        .replace("{client_id}", v.client_id)
        .replace("{topic}", v.topic)
        .replace("{case}", v.case)
        .replace("{trigger}", v.trigger)
}

/// A started device program.
pub struct Program {
    child: Child,
    /// The process group the program leads (its pid, kept: the child's id
    /// is gone once it has been waited for, its descendants may not be).
    group: Option<u32>,
    /// Reads stderr to its end (so the program never blocks on a full
    /// pipe) and returns the last [`STDERR_TAIL`] bytes.
    stderr: Option<JoinHandle<Vec<u8>>>,
    exited: Option<ExitStatus>,
}

/// Start the command (through `sh -c`, in a process group of its own),
/// stdout discarded, stderr kept for [`Program::last_words`]; killed with
/// its group when dropped.
pub fn spawn(command: &str) -> std::io::Result<Program> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().map(|s| tokio::spawn(tail(s)));
    Ok(Program {
        group: child.id(),
        child,
        stderr,
        exited: None,
    })
}

impl Program {
    /// Resolves when the program exits (at once if it already has; never
    /// if its status cannot be read).
    pub async fn exited(&mut self) -> ExitStatus {
        if let Some(s) = self.exited {
            return s;
        }
        match self.child.wait().await {
            Ok(s) => {
                self.exited = Some(s);
                s
            }
            Err(_) => std::future::pending().await,
        }
    }

    /// The exit status, if the program has exited.
    pub fn status(&self) -> Option<ExitStatus> {
        self.exited
    }

    /// Why the program said it cannot play the trigger: the last line it
    /// wrote on stderr (waits a moment for the pipe to end), or "".
    pub async fn last_words(&mut self) -> String {
        let Some(h) = self.stderr.take() else {
            return String::new();
        };
        let bytes = match tokio::time::timeout(Duration::from_secs(1), h).await {
            Ok(Ok(b)) => b,
            _ => Vec::new(),
        };
        String::from_utf8_lossy(&bytes)
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string()
    }

    /// Stop the program and what it started.
    pub async fn kill(&mut self) {
        self.kill_group();
        let _ = self.child.kill().await;
    }

    /// SIGKILL to the program's process group (its id: see [`spawn`]).
    fn kill_group(&self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .group
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // Fails only when the group is gone already.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Read `s` to its end, keeping the last [`STDERR_TAIL`] bytes.
async fn tail(mut s: ChildStderr) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > STDERR_TAIL {
            kept.drain(..kept.len() - STDERR_TAIL);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_replaced() {
        let v = Vars {
            host: "127.0.0.1",
            port: 1883,
            client_id: "dev1",
            topic: "mqttspec/x/c",
            case: "c",
            trigger: "publish qos=1",
        };
        assert_eq!(
            expand(
                "pub -h {host} -p {port} -i {client_id} -t {topic}/a # {case}: {trigger}",
                &v
            ),
            "pub -h 127.0.0.1 -p 1883 -i dev1 -t mqttspec/x/c/a # c: publish qos=1"
        );
    }

    #[tokio::test]
    async fn a_program_that_cannot_play_says_why() {
        let mut p = spawn("echo 'some noise' >&2; echo 'cannot reconnect' >&2; exit 77").unwrap();
        assert_eq!(p.exited().await.code(), Some(NOT_APPLICABLE));
        assert_eq!(p.status().and_then(|s| s.code()), Some(NOT_APPLICABLE));
        assert_eq!(p.last_words().await, "cannot reconnect");
    }

    #[tokio::test]
    async fn kill_ends_what_the_program_started() {
        // The background `sleep` holds stderr open: the pipe ends (and the
        // last words come at once) only if it was killed with the shell.
        // The connection says it runs.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut p = spawn(&format!(
            "bash -c 'sleep 60 & echo started >&2; exec 3<>/dev/tcp/127.0.0.1/{port}; wait'"
        ))
        .unwrap();
        let _running = listener.accept().await.unwrap();
        p.kill().await;
        let words = tokio::time::timeout(Duration::from_millis(900), p.last_words()).await;
        assert_eq!(words.ok().as_deref(), Some("started"));
    }
}
