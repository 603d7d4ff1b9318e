//! Executing one case against a broker: steps in order over named
//! connections, each wait bounded by its window; the first failed
//! expectation ends the case. Produces the [`CaseReport`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::timeout_at;

mod accept;

use super::conn::{Conn, Incoming};
use super::recorder::Recorder;
use super::refusal;
use crate::case::{
    build_packet, match_packet, Action, Alternative, Case, Context, Grade, Outcome, RawPacket,
    Role, Send,
};
use crate::codec::{encode, encode_with, Packet};
use crate::event::Side;
use crate::report::{CaseReport, ConnInfo, StepReport};
use crate::transport::tls::{Choice, ClientCert, Material, RefusedBy};
use crate::transport::{Framing, Target, TransportError};
use crate::verdict::Verdict;

/// Per-run settings a case needs.
#[derive(Debug, Clone)]
pub struct CaseEnv {
    pub target: Target,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Unique per run: goes into client ids and topics.
    pub run_id: String,
    /// Position of the case in the run (keeps client ids unique).
    pub index: usize,
    pub connect_timeout: Duration,
    /// TLS settings for `mqtts://` targets.
    pub tls: Option<crate::transport::Tls>,
    /// The files behind `tls` and the fixtures directory, for the TLS
    /// choices of `open`/`connect` steps.
    pub tls_material: Option<Material>,
    /// Device cases: where the device connects to (`mqttspec serve`).
    pub listener: Option<Arc<crate::transport::Listener>>,
    /// Device cases: the `--exec` command template that makes the device act.
    pub exec: Option<String>,
}

struct Exec<'a> {
    case: &'a Case,
    env: &'a CaseEnv,
    ctx: Context,
    conns: BTreeMap<String, Conn>,
    recorder: Recorder,
    next_id: u32,
    /// The `--exec` program of a device case, killed when the case ends.
    triggered: Option<crate::run::trigger::Program>,
}

/// Outcome of one step.
struct StepOut {
    result: Verdict,
    expected: Option<String>,
    actual: Vec<String>,
    message: Option<String>,
    /// The statement broken, when not the step's own (e.g. a WebSocket
    /// server that does not select `mqtt` breaks MQTT-6.0.0-4 in any step).
    statement: Option<&'static str>,
}

impl StepOut {
    fn pass() -> StepOut {
        StepOut {
            result: Verdict::Pass,
            expected: None,
            actual: Vec::new(),
            message: None,
            statement: None,
        }
    }
    fn with(result: Verdict, message: impl Into<String>) -> StepOut {
        StepOut {
            result,
            expected: None,
            actual: Vec::new(),
            message: Some(message.into()),
            statement: None,
        }
    }
}

/// Run one case to its report.
pub async fn run_case(case: &Case, env: &CaseEnv) -> CaseReport {
    let started = Instant::now();
    let mut ex = Exec {
        case,
        env,
        ctx: Context {
            topic_prefix: topic_prefix(env, case),
            ..Context::default()
        },
        conns: BTreeMap::new(),
        recorder: Recorder::new(case.version, us(case.role)),
        next_id: 0,
        triggered: None,
    };
    let deadline = tokio::time::Instant::now() + case.deadline;
    let mut steps = Vec::new();
    let mut verdict = Verdict::Pass;
    let mut reason: Option<String> = None;
    let mut failed_statement: Option<&'static str> = None;
    for (n, step) in case.steps.iter().enumerate() {
        let out = match timeout_at(deadline, ex.step(&step.action)).await {
            Ok(o) => o,
            Err(_) => StepOut::with(
                Verdict::Error,
                format!("case deadline of {} ms exceeded", case.deadline.as_millis()),
            ),
        };
        if out.result == Verdict::Skip && reason.is_none() {
            // Not applicable to this device: said as it is, no statement.
            reason.clone_from(&out.message);
        } else if out.result != Verdict::Pass && reason.is_none() {
            let statement = out.statement.unwrap_or(step.statement);
            if matches!(out.result, Verdict::Fail | Verdict::NonStrict) {
                failed_statement = Some(statement);
            }
            reason = Some(format!(
                "[{}] step {} ({} {}, line {}): {}",
                statement,
                n + 1,
                step.action.name(),
                step.action.conn(),
                step.line,
                out.message
                    .clone()
                    .unwrap_or_else(|| out.result.name().into())
            ));
        }
        verdict = verdict.worst(out.result);
        let stop = matches!(
            out.result,
            Verdict::Fail | Verdict::Error | Verdict::Inconclusive | Verdict::Skip
        );
        steps.push(StepReport {
            step: n + 1,
            line: step.line,
            action: step.action.name(),
            conn: step.action.conn().to_string(),
            result: out.result,
            expected: out.expected,
            actual: out.actual,
            message: out.message,
        });
        if stop {
            for (m, rest) in case.steps.iter().enumerate().skip(n + 1) {
                steps.push(StepReport {
                    step: m + 1,
                    line: rest.line,
                    action: rest.action.name(),
                    conn: rest.action.conn().to_string(),
                    result: Verdict::Skip,
                    expected: None,
                    actual: Vec::new(),
                    message: None,
                });
            }
            break;
        }
    }
    for (n, step) in case.cleanup.iter().enumerate() {
        let out = match timeout_at(deadline, ex.step(&step.action)).await {
            Ok(o) => o,
            Err(_) => StepOut::with(Verdict::Error, "case deadline exceeded during cleanup"),
        };
        steps.push(StepReport {
            step: case.steps.len() + n + 1,
            line: step.line,
            action: step.action.name(),
            conn: step.action.conn().to_string(),
            // Cleanup never judges the broker.
            result: if out.result == Verdict::Pass {
                Verdict::Pass
            } else {
                Verdict::Skip
            },
            expected: out.expected,
            actual: out.actual,
            message: out.message.map(|m| format!("cleanup: {m}")),
        });
    }
    let mut connections: Vec<ConnInfo> = ex
        .conns
        .values()
        .map(|c| ConnInfo {
            id: c.id,
            name: c.name.clone(),
            client_id: c.client_id.clone(),
        })
        .collect();
    connections.sort_by_key(|c| c.id);
    // The device program goes first: a client library would otherwise
    // reconnect as soon as its connection is dropped.
    if let Some(mut program) = ex.triggered.take() {
        program.kill().await;
    }
    for c in ex.conns.values_mut() {
        c.drop_now().await;
    }
    drop(ex.conns);
    let (findings, wire) = ex.recorder.finish();
    // The suite breaks the rules of its own side on purpose; only the
    // peer's findings (the server in broker mode, the client in device
    // mode) judge the case.
    let peer = match us(case.role) {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    };
    let findings: Vec<_> = findings.into_iter().filter(|f| f.actor == peer).collect();
    if let Some(f) = findings.first() {
        if verdict != Verdict::Fail {
            reason = Some(format!("[{}] {}", f.rule, f.message));
            failed_statement = Some(f.rule);
        }
        verdict = Verdict::Fail;
    }
    CaseReport {
        id: case.id.clone(),
        title: case.title.clone(),
        description: case.description.clone(),
        statements: case.statements.clone(),
        tags: case.tags.clone(),
        version: case.version.name(),
        file: case.path.display().to_string(),
        verdict,
        reason,
        failed_statement,
        duration_ms: started.elapsed().as_millis() as u64,
        connections,
        steps,
        findings,
        wire,
        port: None,
    }
}

/// A device whose TLS or WebSocket handshake failed: the case cannot go
/// on (an error with the reason), unless the device broke a statement by
/// it (a WebSocket device that did not offer `mqtt`: a failure).
fn refused_device(r: crate::transport::Refused) -> StepOut {
    let message = format!("the device's handshake failed: {}", r.reason);
    match r.statement {
        Some(statement) => StepOut {
            statement: Some(statement),
            ..StepOut::with(Verdict::Fail, message)
        },
        None => StepOut::with(Verdict::Error, message),
    }
}

/// The client id of connection `conn` of the case at `env.index`:
/// alphanumeric and at most 23 bytes, as every 3.1.1 server must accept.
pub fn client_id(env: &CaseEnv, conn: &str) -> String {
    let mut id = format!("ms{}{:03}{}", env.run_id, env.index % 1000, conn);
    id.truncate(23);
    id
}

/// The topic prefix of `case` in a run (`{t}` in case files).
pub fn topic_prefix(env: &CaseEnv, case: &Case) -> String {
    format!("mqttspec/{}/{}", env.run_id, case.id)
}

/// The side the suite plays in a case of `role`.
fn us(role: Role) -> Side {
    match role {
        Role::Broker => Side::Client,
        Role::Device => Side::Server,
    }
}

impl Exec<'_> {
    fn client_id_for(&self, conn: &str) -> String {
        client_id(self.env, conn)
    }

    async fn open(&mut self, name: &str, choice: Option<&Choice>) -> Result<(), StepOut> {
        self.try_open(name, choice).await.map_err(|e| match e {
            // The broker would not let us in: nothing can be concluded.
            TransportError::Refused(_, ref r) if r.by == RefusedBy::Broker => {
                StepOut::with(Verdict::Inconclusive, e.to_string())
            }
            // The server's answer, not a harness failure.
            TransportError::Subprotocol(why) => StepOut {
                statement: Some(crate::transport::ws::SUBPROTOCOL_STATEMENT),
                ..StepOut::with(Verdict::Fail, why)
            },
            _ => StepOut::with(Verdict::Error, e.to_string()),
        })
    }

    /// Open `name` (over TLS with the step's choices applied, if any).
    async fn try_open(
        &mut self,
        name: &str,
        choice: Option<&Choice>,
    ) -> Result<(), TransportError> {
        if let Some(old) = self.conns.get_mut(name) {
            old.drop_now().await;
        }
        let chosen = match (choice, &self.env.tls_material) {
            (None, _) => None,
            (Some(c), Some(m)) => Some(m.with_choice(c)?),
            (Some(_), None) => {
                return Err(TransportError::BadUrl(
                    self.env.target.url.clone(),
                    "the case chooses TLS settings: it needs an mqtts:// or wss:// target".into(),
                ))
            }
        };
        let tls = chosen.as_ref().or(self.env.tls.as_ref());
        let link = self
            .env
            .target
            .connect(self.env.connect_timeout, tls)
            .await?;
        let id = self.next_id;
        self.next_id += 1;
        let mut conn = Conn::start(id, name, link, self.recorder.clone());
        conn.client_id = self
            .ctx
            .client_ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.client_id_for(name));
        self.conns.insert(name.to_string(), conn);
        Ok(())
    }

    async fn step(&mut self, action: &Action) -> StepOut {
        match self.step_inner(action).await {
            Ok(o) | Err(o) => o,
        }
    }

    async fn step_inner(&mut self, action: &Action) -> Result<StepOut, StepOut> {
        let version = self.case.version;
        match action {
            Action::Accept { conn, within } => self.accept(conn, *within).await,
            Action::Open { conn, tls } => {
                self.open(conn, tls.as_ref()).await?;
                Ok(StepOut::pass())
            }
            Action::Connect {
                conn,
                tls,
                refused_by: Some(by),
                spec,
                anonymous,
                same_client_as,
                ..
            } => {
                let packet =
                    self.connect_packet(conn, spec, *anonymous, same_client_as.as_deref())?;
                Ok(self.connect_refused(conn, tls.as_ref(), *by, &packet).await)
            }
            Action::Connect {
                conn,
                tls,
                refused_by: None,
                spec,
                framing,
                connack,
                connack_explicit,
                anonymous,
                same_client_as,
            } => {
                let packet =
                    self.connect_packet(conn, spec, *anonymous, same_client_as.as_deref())?;
                if !self.conns.contains_key(conn)
                    || self.conns.get(conn).is_some_and(|c| c.server_closed)
                {
                    if let Err(mut out) = self.open(conn, tls.as_ref()).await {
                        // A refusal of a connection the case says must be
                        // accepted breaks what the case checks.
                        if *connack_explicit && out.result == Verdict::Inconclusive {
                            out.result = Verdict::Fail;
                        }
                        return Err(out);
                    }
                }
                if let Packet::Connect(c) = &packet {
                    if let Some(k) = self.conns.get_mut(conn) {
                        k.client_id = c.client_id.to_string();
                    }
                }
                self.send_bytes(conn, &encode(&packet, version), framing)
                    .await?;
                match connack {
                    None => Ok(StepOut::pass()),
                    Some(p) => {
                        let explicit = *connack_explicit;
                        let alt = Alternative {
                            outcome: Outcome::Packet(p.clone()),
                            grade: Grade::Pass,
                            note: None,
                        };
                        let mut out = self
                            .expect(conn, &[alt], crate::case::DEFAULT_WITHIN, false)
                            .await;
                        if out.result == Verdict::Fail && !explicit {
                            // The broker would not let us in: nothing about
                            // the statements under test can be concluded.
                            out.result = Verdict::Inconclusive;
                        }
                        Ok(out)
                    }
                }
            }
            Action::Send {
                conn,
                what,
                framing,
            } => {
                let bytes = match what {
                    Send::Hex(b) => b.clone(),
                    Send::Packet { packet, overrides } => {
                        let p = build_packet(packet, &self.ctx, version)
                            .map_err(|e| StepOut::with(Verdict::Error, e))?;
                        let o = overrides
                            .to_overrides()
                            .map_err(|e| StepOut::with(Verdict::Error, e))?;
                        encode_with(&p, version, &o)
                    }
                };
                self.send_bytes(conn, &bytes, framing).await
            }
            Action::Expect {
                conn,
                alternatives,
                within,
                keep,
            } => Ok(self.expect(conn, alternatives, *within, *keep).await),
            Action::ExpectNone {
                conn,
                pattern,
                within,
            } => {
                let alt = Alternative {
                    outcome: Outcome::Nothing(pattern.clone()),
                    grade: Grade::Pass,
                    note: None,
                };
                Ok(self.expect(conn, &[alt], *within, false).await)
            }
            Action::ExpectClose { conn, within } => {
                let alt = Alternative {
                    outcome: Outcome::Close,
                    grade: Grade::Pass,
                    note: None,
                };
                Ok(self.expect(conn, &[alt], *within, false).await)
            }
            Action::Drop { conn } => {
                if let Some(c) = self.conns.get_mut(conn) {
                    c.drop_now().await;
                }
                Ok(StepOut::pass())
            }
            Action::Disconnect { conn } => {
                let d = build_packet(
                    &RawPacket {
                        kind: "disconnect".into(),
                        ..RawPacket::default()
                    },
                    &self.ctx,
                    version,
                )
                .map_err(|e| StepOut::with(Verdict::Error, e))?;
                self.send_bytes(conn, &encode(&d, version), &Framing::Whole)
                    .await?;
                if let Some(c) = self.conns.get_mut(conn) {
                    c.drop_now().await;
                }
                Ok(StepOut::pass())
            }
        }
    }

    /// The CONNECT of a `connect` step: the connection's client id (or that
    /// of `same_client_as`), the run's credentials unless `anonymous`.
    fn connect_packet(
        &mut self,
        conn: &str,
        spec: &RawPacket,
        anonymous: bool,
        same_client_as: Option<&str>,
    ) -> Result<Packet, StepOut> {
        let client_id = match same_client_as {
            Some(other) => self
                .ctx
                .client_ids
                .get(other)
                .cloned()
                .unwrap_or_else(|| self.client_id_for(other)),
            None => self.client_id_for(conn),
        };
        self.ctx
            .client_ids
            .insert(conn.to_string(), client_id.clone());
        let mut spec = spec.clone();
        if spec.client_id.is_none() {
            spec.client_id = Some(crate::case::raw_text(&client_id));
        }
        if !anonymous && spec.username.is_none() {
            if let Some(u) = &self.env.username {
                spec.username = Some(crate::case::raw_text(u));
                if spec.password.is_none() {
                    spec.password = self.env.password.as_deref().map(crate::case::raw_text);
                }
            }
        }
        build_packet(&spec, &self.ctx, self.case.version)
            .map_err(|e| StepOut::with(Verdict::Error, e))
    }

    /// A `connect` step that expects the connection to be refused: by the
    /// suite during the handshake, or by the broker during the handshake or
    /// (TLS 1.3) on the first read after CONNECT.
    async fn connect_refused(
        &mut self,
        conn: &str,
        choice: Option<&Choice>,
        by: RefusedBy,
        packet: &Packet,
    ) -> StepOut {
        let what = match by {
            RefusedBy::Broker => choice
                .and_then(|c| c.client.as_ref())
                .map(ClientCert::describe)
                .unwrap_or_else(|| "the run's client certificate".into()),
            RefusedBy::Suite => self.broker_cert_as_checked(choice),
        };
        let within = crate::case::DEFAULT_WITHIN;
        let expected = refusal::expected(by, &what, within);
        let judged = match self.try_open(conn, choice).await {
            Err(TransportError::Refused(_, r)) => refusal::handshake_failed(by, &r, &what),
            Err(e) => refusal::Judged {
                result: Verdict::Error,
                actual: Vec::new(),
                message: e.to_string(),
            },
            Ok(()) if by == RefusedBy::Suite => refusal::suite_accepted(&what),
            Ok(()) => {
                if let (Packet::Connect(c), Some(k)) = (packet, self.conns.get_mut(conn)) {
                    k.client_id = c.client_id.to_string();
                }
                let bytes = encode(packet, self.case.version);
                // A write may fail once the broker has closed: its refusal
                // (and reason) then reaches the reader, so wait either way.
                let _ = self.send_bytes(conn, &bytes, &Framing::Whole).await;
                match self.conns.get_mut(conn) {
                    Some(c) => refusal::await_broker(c, &self.recorder, &what, within).await,
                    None => refusal::Judged {
                        result: Verdict::Error,
                        actual: Vec::new(),
                        message: format!("no connection `{conn}`"),
                    },
                }
            }
        };
        StepOut {
            result: judged.result,
            expected: Some(expected),
            actual: judged.actual,
            message: Some(judged.message),
            statement: None,
        }
    }

    /// How the suite checks the broker's certificate on a connection.
    fn broker_cert_as_checked(&self, choice: Option<&Choice>) -> String {
        let name = choice
            .and_then(|c| c.server_name.clone())
            .unwrap_or_else(|| self.env.target.host.clone());
        match choice.and_then(|c| c.ca.as_ref()) {
            Some(ca) => format!("the broker's certificate for {name} against {ca}.pem"),
            None => format!("the broker's certificate for {name}"),
        }
    }

    /// Send on `conn`. A device may close as soon as it is done (a client
    /// need not wait for CONNACK, MQTT-3.1.4): a write it can no longer
    /// take is then noted, not judged, and the steps that follow judge what
    /// it sent before. The broker closing on the suite fails the step.
    async fn send_bytes(
        &mut self,
        conn: &str,
        bytes: &[u8],
        framing: &Framing,
    ) -> Result<StepOut, StepOut> {
        let device = self.case.role == Role::Device;
        let c = self
            .conns
            .get_mut(conn)
            .ok_or_else(|| StepOut::with(Verdict::Error, format!("no connection `{conn}`")))?;
        match c.send(bytes, framing).await {
            Ok(()) => Ok(StepOut::pass()),
            Err(e) if device && *framing == Framing::Whole => Ok(StepOut {
                message: Some(format!(
                    "not delivered: the device had closed the connection ({e})"
                )),
                ..StepOut::pass()
            }),
            Err(e) => Err(StepOut::with(Verdict::Fail, format!("could not send: {e}"))),
        }
    }

    /// Wait for one of the alternatives within `within`. Packets that arrived
    /// earlier and matched no step yet are looked at first; packets that match
    /// nothing stay for later steps (so `expect_none` also sees them); with
    /// `keep` the matched packet stays too.
    async fn expect(
        &mut self,
        conn: &str,
        alts: &[Alternative],
        within: Duration,
        keep: bool,
    ) -> StepOut {
        let peer = peer_name(self.case.role);
        let expected = self.ctx.expand(&describe(alts, within, peer));
        let Some(c) = self.conns.get_mut(conn) else {
            return StepOut::with(Verdict::Error, format!("no connection `{conn}`"));
        };
        let deadline = tokio::time::Instant::now() + within;
        let mut earlier = std::mem::take(&mut c.backlog);
        let mut state = Waiting {
            alts,
            peer,
            actual: Vec::new(),
            nothing_broken: vec![false; alts.len()],
        };
        let outcome = loop {
            let got = if let Some(d) = earlier.pop_front() {
                Some(Incoming::Packet(d))
            } else if c.server_closed {
                Some(Incoming::Closed)
            } else {
                match timeout_at(deadline, c.inbox.recv()).await {
                    Ok(Some(i)) => Some(i),
                    Ok(None) => Some(Incoming::Closed),
                    Err(_) => None,
                }
            };
            match got {
                Some(Incoming::Packet(d)) => {
                    if let Some(o) = state.packet(&d, &mut self.ctx) {
                        if keep {
                            c.backlog.push_back(d);
                        }
                        break o;
                    }
                    c.backlog.push_back(d);
                }
                Some(Incoming::Malformed(e)) => {
                    state.actual.push(format!("unframeable bytes: {e}"))
                }
                Some(Incoming::Closed) => {
                    c.server_closed = true;
                    break state.closed(self.recorder.close_reason(c.id));
                }
                None => break state.timeout(within),
            }
        };
        c.backlog.extend(earlier);
        let (result, alt, message) = outcome;
        StepOut {
            message: message.or_else(|| {
                let what = match result {
                    Verdict::NonStrict => "accepted a non-strict alternative",
                    Verdict::Inconclusive => "nothing can be concluded",
                    _ => return None,
                };
                Some(format!("{what}{}", colon(alt?.note.as_deref())))
            }),
            result,
            expected: Some(expected),
            actual: state.actual,
            statement: None,
        }
    }
}

/// Outcome of an expectation: verdict, the alternative met, a message.
type Outcome3<'a> = (Verdict, Option<&'a Alternative>, Option<String>);

/// The state of one `expect` while it waits.
struct Waiting<'a> {
    alts: &'a [Alternative],
    /// "the server" or "the device", for messages.
    peer: &'static str,
    actual: Vec<String>,
    nothing_broken: Vec<bool>,
}

fn graded(a: &Alternative) -> Verdict {
    match a.grade {
        Grade::Pass => Verdict::Pass,
        Grade::NonStrict => Verdict::NonStrict,
        Grade::Inconclusive => Verdict::Inconclusive,
    }
}

impl<'a> Waiting<'a> {
    /// A packet: Some(outcome) if it decides the step.
    fn packet(&mut self, d: &crate::codec::Decoded, ctx: &mut Context) -> Option<Outcome3<'a>> {
        let summary = crate::report::text::summary(d);
        let mut mismatch = Vec::new();
        for (k, alt) in self.alts.iter().enumerate() {
            match &alt.outcome {
                Outcome::Packet(p) => match match_packet(p, d, ctx) {
                    Ok(()) => {
                        self.actual.push(summary);
                        return Some((graded(alt), Some(alt), None));
                    }
                    Err(why) => mismatch.push(why),
                },
                Outcome::Nothing(pattern) => {
                    let hit = match pattern {
                        Some(p) => match_packet(p, d, &mut ctx.clone()).is_ok(),
                        None => true,
                    };
                    if hit {
                        self.nothing_broken[k] = true;
                    }
                }
                Outcome::Close | Outcome::Open => {}
            }
        }
        if mismatch.is_empty() {
            self.actual.push(summary);
        } else {
            self.actual
                .push(format!("{summary} ({})", mismatch.join("; ")));
        }
        let only_nothing = self
            .alts
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Nothing(_)));
        if only_nothing && self.nothing_broken.iter().all(|b| *b) {
            return Some((
                Verdict::Fail,
                None,
                Some("a packet arrived where none was allowed".into()),
            ));
        }
        None
    }

    /// The peer closed; `why` is the transport's reason (e.g. a TLS alert).
    fn closed(&mut self, why: Option<String>) -> Outcome3<'a> {
        let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
        let peer = self.peer;
        self.actual
            .push(format!("connection closed by {peer}{why}"));
        match self
            .alts
            .iter()
            .find(|a| matches!(a.outcome, Outcome::Close))
        {
            Some(alt) => (graded(alt), Some(alt), None),
            None => (
                Verdict::Fail,
                None,
                Some(format!("{} closed the connection{why}", self.peer)),
            ),
        }
    }

    fn timeout(&mut self, within: Duration) -> Outcome3<'a> {
        let open = self.alts.iter().enumerate().find(|(k, a)| {
            matches!(a.outcome, Outcome::Open)
                || matches!(a.outcome, Outcome::Nothing(_)) && !self.nothing_broken[*k]
        });
        match open {
            Some((_, alt)) => (graded(alt), Some(alt), None),
            None => (
                Verdict::Fail,
                None,
                Some(format!("nothing matching within {} ms", within.as_millis())),
            ),
        }
    }
}

/// ": TEXT" to end a message with, or "" when there is no text.
fn colon(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() => format!(": {t}"),
        _ => String::new(),
    }
}

/// Who the suite tests in a case of `role`, for messages.
fn peer_name(role: Role) -> &'static str {
    match role {
        Role::Broker => "the server",
        Role::Device => "the device",
    }
}

fn describe(alts: &[Alternative], within: Duration, peer: &str) -> String {
    let parts: Vec<String> = alts
        .iter()
        .map(|a| {
            let what = match &a.outcome {
                Outcome::Packet(p) => describe_pattern(p),
                Outcome::Close => format!("{peer} closes the connection"),
                Outcome::Open => "the connection stays open".into(),
                Outcome::Nothing(None) => "no packet".into(),
                Outcome::Nothing(Some(p)) => format!("no {}", describe_pattern(p)),
            };
            match a.grade {
                Grade::Pass => what,
                Grade::NonStrict => format!("{what} (non-strict)"),
                Grade::Inconclusive => format!("{what} (inconclusive)"),
            }
        })
        .collect();
    format!("{} within {} ms", parts.join(" or "), within.as_millis())
}

/// A pattern as text: its type and the fields it constrains.
pub fn describe_pattern(p: &RawPacket) -> String {
    let mut s = p.kind.to_uppercase();
    let mut kv = |k: &str, v: String| {
        s.push_str(&format!(" {k}={v}"));
    };
    if let Some(n) = &p.packet_id {
        kv("packet_id", crate::case::num_text(n));
    }
    if let Some(t) = &p.topic {
        kv("topic", crate::case::text_text(t));
    }
    if let Some(t) = &p.topic_prefix {
        kv("topic_prefix", crate::case::text_text(t));
    }
    if let Some(t) = &p.payload {
        kv("payload", crate::case::text_text(t));
    }
    if let Some(q) = p.qos {
        kv("qos", q.to_string());
    }
    if let Some(r) = p.retain {
        kv("retain", u8::from(r).to_string());
    }
    if let Some(d) = p.dup {
        kv("dup", u8::from(d).to_string());
    }
    if let Some(c) = p.code {
        kv("code", format!("0x{c:02x}"));
    }
    if let Some(l) = p.protocol_level {
        kv("protocol_level", l.to_string());
    }
    if let Some(c) = p.clean_session {
        kv("clean_session", u8::from(c).to_string());
    }
    if let Some(k) = p.keep_alive {
        kv("keep_alive", k.to_string());
    }
    if let Some(u) = &p.username {
        kv("username", crate::case::text_text(u));
    }
    if let Some(sp) = p.session_present {
        kv("session_present", u8::from(sp).to_string());
    }
    if let Some(c) = &p.codes {
        kv("codes", format!("{c:?}"));
    }
    if let Some(r) = p.reason_code {
        kv("reason_code", format!("0x{r:02x}"));
    }
    s
}
