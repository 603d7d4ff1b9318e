//! Device mode's `accept` step: start the case's `--exec` program at its
//! first `accept`, then wait for the device to connect, for the window to
//! pass, or for the program to say it cannot play the trigger (exit status
//! [`trigger::NOT_APPLICABLE`]: the case is skipped as not applicable).

use std::time::Duration;

use tokio::time::timeout_at;

use super::{colon, refused_device, Exec, StepOut};
use crate::run::conn::Conn;
use crate::run::trigger;
use crate::verdict::Verdict;

impl Exec<'_> {
    /// Wait for the device to connect (starting the `--exec` program at the
    /// case's first accept); the connection becomes `name`.
    pub(super) async fn accept(
        &mut self,
        name: &str,
        within: Duration,
    ) -> Result<StepOut, StepOut> {
        let Some(listener) = self.env.listener.clone() else {
            return Err(StepOut::with(
                Verdict::Error,
                "`accept` needs the suite to be the broker: run device cases with `mqttspec serve`",
            ));
        };
        if let Some(old) = self.conns.get_mut(name) {
            old.drop_now().await;
        }
        let client_id = self.client_id_for(name);
        if let (Some(template), None) = (&self.env.exec, &self.triggered) {
            // Connections left from an earlier case's program are not this
            // case's device.
            listener.drop_queued().await;
            let command = crate::run::trigger::expand(
                template,
                &crate::run::trigger::Vars {
                    host: &self.env.target.host,
                    port: listener.port(),
                    client_id: &client_id,
                    topic: &self.ctx.topic_prefix,
                    case: &self.case.id,
                    trigger: self.case.trigger.as_deref().unwrap_or(""),
                },
            );
            match crate::run::trigger::spawn(&command) {
                Ok(program) => self.triggered = Some(program),
                Err(e) => {
                    return Err(StepOut::with(
                        Verdict::Error,
                        format!("cannot start `{command}`: {e}"),
                    ))
                }
            }
        }
        let deadline = tokio::time::Instant::now() + within;
        let accepted = loop {
            match self.accept_or_exit(&listener, deadline).await {
                Waited::Accepted(a) => break Some(a),
                Waited::TimedOut => break None,
                // Any other exit: the program may have started the device
                // and left; the device may still come.
                Waited::Exited(status) if status.code() != Some(trigger::NOT_APPLICABLE) => {}
                Waited::Exited(status) => {
                    let words = match self.triggered.as_mut() {
                        Some(p) => p.last_words().await,
                        None => String::new(),
                    };
                    return Ok(StepOut::with(
                        Verdict::Skip,
                        format!(
                            "not applicable: the device program cannot play the trigger `{}` ({status}){}",
                            self.case.trigger.as_deref().unwrap_or(""),
                            colon(Some(&words)),
                        ),
                    ));
                }
            }
        };
        let (tcp, _peer) = match accepted {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                return Err(StepOut::with(Verdict::Error, format!("accept failed: {e}")))
            }
            None => {
                let exited = match self.triggered.as_mut() {
                    Some(p) => match p.status() {
                        Some(s) => {
                            let words = p.last_words().await;
                            format!(
                                "; the device program had exited ({s}){}",
                                colon(Some(&words))
                            )
                        }
                        None => String::new(),
                    },
                    None => String::new(),
                };
                return Ok(StepOut::with(
                    Verdict::Inconclusive,
                    format!(
                        "the device did not connect within {} ms{}{exited}",
                        within.as_millis(),
                        match &self.case.trigger {
                            Some(t) => format!(" (trigger: {t})"),
                            None => String::new(),
                        }
                    ),
                ));
            }
        };
        let link = match listener
            .handshake(tcp, crate::transport::HANDSHAKE_WAIT)
            .await
        {
            Ok(a) => a.link,
            Err(r) => return Err(refused_device(r)),
        };
        let id = self.next_id;
        self.next_id += 1;
        let mut conn = Conn::start(id, name, link, self.recorder.clone());
        conn.client_id = client_id;
        self.conns.insert(name.to_string(), conn);
        Ok(StepOut::pass())
    }

    /// Wait until the device connects, `deadline` passes, or the device
    /// program (still running) exits, whichever comes first.
    async fn accept_or_exit(
        &mut self,
        listener: &crate::transport::Listener,
        deadline: tokio::time::Instant,
    ) -> Waited {
        let program = self.triggered.as_mut().filter(|p| p.status().is_none());
        let exited = async {
            match program {
                Some(p) => p.exited().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            a = timeout_at(deadline, listener.accept()) => match a {
                Ok(a) => Waited::Accepted(a),
                Err(_) => Waited::TimedOut,
            },
            status = exited => Waited::Exited(status),
        }
    }
}

/// What ended a wait in `accept`.
enum Waited {
    Accepted(std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)>),
    TimedOut,
    Exited(std::process::ExitStatus),
}
