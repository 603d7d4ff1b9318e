//! Device-case triggers: how a case makes the device act. `--exec CMD` is a
//! shell command run when a case's first `accept` step starts waiting, with
//! `{host}`, `{port}`, `{client_id}`, `{topic}`, `{case}` and `{trigger}`
//! replaced (for client programs such as mosquitto_pub/sub or a firmware
//! test binary); it is killed when the case ends. Without `--exec` the
//! device is expected to connect by itself.

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

/// Start the command (through `sh -c`), output discarded, killed when the
/// returned child is dropped.
pub fn spawn(command: &str) -> std::io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
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
}
