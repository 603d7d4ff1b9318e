//! The interactive trigger (`mqttspec serve --prompt`): for a device driven
//! by hand (a module on a serial console, an app), each case with a trigger
//! asks the operator on the terminal to make the device act, and waits for
//! Enter. The trigger words of the case (`publish qos=1 keepalive=5`, the
//! same vocabulary `--exec` drivers implement) become a sentence.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines, Stdin};

/// How long an operator has to answer a prompt before the case is given up.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(600);

/// What the operator should make the device do, in words, from a case's
/// abstract trigger (unknown words are passed on as they are).
pub fn describe(trigger: &str) -> String {
    let mut action = None;
    let mut qos = None;
    let mut details = Vec::new();
    for word in trigger.split_whitespace() {
        match word.split_once('=') {
            Some(("qos", q)) => qos = Some(q.to_string()),
            Some(("keepalive", s)) => details.push(format!("Keep Alive {s} s")),
            Some(("user", u)) => details.push(format!("user name \"{u}\"")),
            Some(("pass", p)) => details.push(format!("password \"{p}\"")),
            Some(("clean", "0")) => details.push("a persistent session (clean session 0)".into()),
            Some(("clean", _)) => details.push("a clean session".into()),
            None if action.is_none() => action = Some(word.to_string()),
            _ => details.push(format!("`{word}`")),
        }
    }
    let at_qos = qos.map(|q| format!(" at QoS {q}")).unwrap_or_default();
    let mut s = match action.as_deref() {
        Some("publish") => format!("publish a message{at_qos} to any topic"),
        Some("subscribe") => format!("subscribe{at_qos} to any topic filter"),
        Some("unsubscribe") => format!("subscribe{at_qos} to a topic filter, then unsubscribe"),
        Some("connect") | None => "connect".to_string(),
        Some(other) => format!("do `{other}`{at_qos}"),
    };
    if !details.is_empty() {
        s.push_str(" (");
        s.push_str(&details.join(", "));
        s.push(')');
    }
    s
}

/// The operator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Enter: the device was told; run the case.
    Go,
    /// The case is skipped, for this reason.
    Skip(String),
    /// No answer in time.
    NoAnswer,
}

/// Asks on the terminal; one per run (it owns the stdin line reader, which
/// keeps a partly read line across prompts).
pub struct Prompter {
    lines: Lines<BufReader<Stdin>>,
}

impl Prompter {
    /// A prompter, or None when stdin or stderr is not a terminal.
    pub fn new() -> Option<Prompter> {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Prompter {
            lines: BufReader::new(tokio::io::stdin()).lines(),
        })
    }

    /// Show `question` on stderr and wait for a line.
    pub async fn ask(&mut self, question: &str) -> Answer {
        let mut err = tokio::io::stderr();
        let text = format!("{question}\n  Press Enter when done, or type s and Enter to skip: ");
        // The question is best effort: a closed stderr does not stop the run.
        let _ = err.write_all(text.as_bytes()).await;
        let _ = err.flush().await;
        // `next_line` is cancel safe: a timed-out prompt loses no input.
        match tokio::time::timeout(ANSWER_WITHIN, self.lines.next_line()).await {
            Err(_) => Answer::NoAnswer,
            Ok(Ok(Some(line))) => interpret(&line),
            Ok(Ok(None)) => Answer::Skip("skipped: the terminal closed its input".into()),
            Ok(Err(e)) => Answer::Skip(format!("skipped: cannot read the terminal: {e}")),
        }
    }
}

/// An answer line: empty goes on; `s`/`skip` skips.
pub fn interpret(line: &str) -> Answer {
    match line.trim().to_ascii_lowercase().as_str() {
        "s" | "skip" => Answer::Skip("skipped at the prompt".into()),
        _ => Answer::Go,
    }
}

/// The question for one case.
pub fn question(case_id: &str, trigger: &str, url: &str, client_id: &str, topic: &str) -> String {
    let filter = matches!(
        trigger.split_whitespace().next(),
        Some("subscribe" | "unsubscribe")
    );
    let topics = if filter {
        format!("topic filter: any, e.g. {topic}/#")
    } else {
        format!("topic: any, e.g. {topic}/a")
    };
    format!(
        "[{case_id}] Make the device connect to {url} and {} now.\n  \
         (client id: any, e.g. {client_id}; {topics})",
        describe(trigger)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_words_become_a_sentence() {
        assert_eq!(
            describe("publish qos=1"),
            "publish a message at QoS 1 to any topic"
        );
        assert_eq!(
            describe("subscribe qos=0 keepalive=5"),
            "subscribe at QoS 0 to any topic filter (Keep Alive 5 s)"
        );
        assert_eq!(
            describe("publish qos=0 user=device pass=secret"),
            "publish a message at QoS 0 to any topic (user name \"device\", password \"secret\")"
        );
        assert_eq!(describe(""), "connect");
    }

    #[test]
    fn unknown_words_are_passed_on() {
        assert_eq!(describe("reboot"), "do `reboot`");
        assert_eq!(
            describe("publish qos=1 v5"),
            "publish a message at QoS 1 to any topic (`v5`)"
        );
    }

    #[test]
    fn answers() {
        assert_eq!(interpret(""), Answer::Go);
        assert_eq!(interpret("  \r"), Answer::Go);
        assert!(matches!(interpret("S"), Answer::Skip(_)));
        assert!(matches!(interpret("skip"), Answer::Skip(_)));
    }

    #[test]
    fn question_names_case_address_and_action() {
        let q = question(
            "device-publish-qos1",
            "publish qos=1",
            "mqtt://127.0.0.1:1883",
            "mqttspec-x",
            "mqttspec/r/device-publish-qos1",
        );
        assert!(q.starts_with("[device-publish-qos1] Make the device connect to mqtt://127.0.0.1:1883 and publish a message at QoS 1"), "{q}");
        assert!(
            q.contains("topic: any, e.g. mqttspec/r/device-publish-qos1/a"),
            "{q}"
        );
        let q = question("c", "subscribe qos=1", "mqtt://h:1", "id", "mqttspec/r/c");
        assert!(q.contains("topic filter: any, e.g. mqttspec/r/c/#"), "{q}");
    }
}
