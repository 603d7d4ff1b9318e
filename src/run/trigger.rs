//! Device-case triggers: how a case makes the device act. `--exec CMD` is a
//! shell command run when a case's first `accept` step starts waiting, with
//! `{host}`, `{port}`, `{client_id}`, `{topic}`, `{case}` and `{trigger}`
//! replaced (for client programs such as mosquitto_pub/sub or a firmware
//! test binary); it is killed when the case ends, with everything it
//! started (the shell and the client it runs are one process group).
//! Without `--exec` the device is expected to connect by itself.

use tokio::process::{Child, Command};

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

/// A started device program: `sh -c CMD` in a process group of its own,
/// so that stopping it also stops the client the shell started (dash does
/// not replace itself with the command, and client libraries reconnect
/// when left running).
pub struct Program {
    child: Child,
}

/// Start the command (through `sh -c`), output discarded; killed with its
/// process group by [`Program::stop`] or when dropped.
pub fn spawn(command: &str) -> std::io::Result<Program> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    Ok(Program {
        child: cmd.spawn()?,
    })
}

impl Program {
    /// Kill the program and everything it started; reap the shell.
    pub async fn stop(mut self) {
        self.kill_group();
        let _ = self.child.kill().await;
    }

    fn kill_group(&self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            // The group may be gone already: nothing left to stop then.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill_group();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_a_program_stops_what_its_shell_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // The shell starts a sleep, writes its pid and waits for it.
        let p = spawn(&format!(
            "sleep 30 & echo $! > {}; wait",
            pid_file.display()
        ))
        .unwrap();
        let pid = loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(s) if s.ends_with('\n') => break s.trim().to_string(),
                _ => tokio::task::yield_now().await,
            }
        };
        let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
        assert!(proc_dir.exists());
        p.stop().await;
        // Killed (and, once its parent is gone, reaped by init).
        let gone = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while std::fs::read_to_string(proc_dir.join("stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
            {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(gone.is_ok(), "the shell's child outlived the program");
    }

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
}
