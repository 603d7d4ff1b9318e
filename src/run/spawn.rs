//! `--spawn`: start the broker under test, wait until its port accepts
//! connections (or it exits), and stop it when the run is over.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::transport::Target;

/// A broker process started for the run.
pub struct Spawned {
    child: Child,
}

/// Start `cmd` with `sh -c` and wait up to `timeout` for `target` to accept.
pub async fn spawn(cmd: &str, target: &Target, timeout: Duration) -> Result<Spawned, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {cmd}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `{cmd}`: {e}"))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(5);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ =
                    tokio::time::timeout(Duration::from_millis(500), e.read_to_string(&mut err))
                        .await;
            }
            let last = err.lines().last().unwrap_or("").to_string();
            return Err(format!(
                "`{cmd}` exited ({status}) before accepting connections: {last}"
            ));
        }
        if target.connect_tcp(Duration::from_millis(200)).await.is_ok() {
            return Ok(Spawned { child });
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = child.kill().await;
            return Err(format!(
                "`{cmd}` did not accept connections on {} within {} s",
                target.addr(),
                timeout.as_secs()
            ));
        }
        // Back off while the broker starts; bounded by the deadline above.
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(100));
    }
}

impl Spawned {
    /// Stop the broker.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}
