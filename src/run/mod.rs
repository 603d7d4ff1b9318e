//! Broker mode: runs the selected cases concurrently against one broker,
//! each case with its own client ids and topics, the whole run bounded by a
//! deadline, and assembles the [`Report`]. Cases tagged `ws` only apply to
//! WebSocket targets and are left out of other runs. Device mode
//! ([`serve_cases`], in `serve.rs`): the suite plays the broker for device
//! cases.

mod applies;
mod conn;
mod exec;
pub mod prompt;
mod recorder;
mod refusal;
mod serve;
pub mod spawn;
pub mod trigger;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use crate::case::{Case, Role};
use crate::report::{CaseReport, Report, StepReport, Summary};
use crate::transport::Target;
use crate::verdict::Verdict;

pub use exec::{describe_pattern, CaseEnv};
pub use serve::{serve_cases, Listeners, ServeConfig};

/// Settings of a broker-mode run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub target: Target,
    pub username: Option<String>,
    pub password: Option<String>,
    pub jobs: usize,
    pub strict: bool,
    /// The whole run must end by then; unfinished cases become errors.
    pub deadline: Duration,
    pub connect_timeout: Duration,
    /// TLS settings for `mqtts://` targets.
    pub tls: Option<crate::transport::Tls>,
    /// The files behind `tls` and the fixtures directory (`--certs`), for
    /// cases that choose their own TLS settings.
    pub tls_material: Option<crate::transport::tls::Material>,
}

/// Called after each case (for progress display).
pub type OnCase = Arc<dyn Fn(&CaseReport) + Send + Sync>;

/// A short id unique enough per run (alphanumeric, 4 chars).
pub fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    const ABC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::new();
    for _ in 0..4 {
        s.push(ABC[(x % ABC.len() as u64) as usize] as char);
        x /= ABC.len() as u64;
    }
    s
}

/// Split `cases` into those that apply to `target` and those that do not
/// (cases tagged `ws` on a target that is not `ws://` or `wss://`; device
/// cases, which `mqttspec serve` runs).
pub fn applicable(cases: Vec<Case>, target: &Target) -> (Vec<Case>, Vec<Case>) {
    let ws = target.scheme.is_websocket();
    cases
        .into_iter()
        .partition(|c| c.role == Role::Broker && (ws || !c.needs_websocket()))
}

/// Run the `cases` that apply to the target (see [`applicable`]); reports
/// come back in case order.
pub async fn run(cases: Vec<Case>, cfg: &RunConfig, on_case: Option<OnCase>) -> Report {
    let (cases, _not_applicable) = applicable(cases, &cfg.target);
    let clock = start_clock();
    let run_id = run_id();
    let sem = Arc::new(Semaphore::new(cfg.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let cases: Vec<Arc<Case>> = cases.into_iter().map(Arc::new).collect();
    let mut results: Vec<Option<CaseReport>> = vec![None; cases.len()];
    for (index, case) in cases.iter().enumerate() {
        if let Some(why) = applies::not_applicable(case, &cfg.target, cfg.tls_material.as_ref()) {
            let r = bare_report(case, Verdict::Skip, why);
            if let Some(f) = &on_case {
                f(&r);
            }
            results[index] = Some(r);
            continue;
        }
        let env = CaseEnv {
            target: cfg.target.clone(),
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            run_id: run_id.clone(),
            index,
            connect_timeout: cfg.connect_timeout,
            tls: cfg.tls.clone(),
            tls_material: cfg.tls_material.clone(),
            listener: None,
            exec: None,
        };
        let sem = sem.clone();
        let case = case.clone();
        let on_case = on_case.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r = exec::run_case(&case, &env).await;
            if let Some(f) = &on_case {
                f(&r);
            }
            (index, r)
        });
    }
    let deadline = tokio::time::Instant::now() + cfg.deadline;
    loop {
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok((i, r)))) => results[i] = Some(r),
            Ok(Some(Err(_))) => {} // a panicked case stays None and is reported as an error
            Ok(None) => break,
            Err(_) => {
                set.abort_all();
                break;
            }
        }
    }
    let reports: Vec<CaseReport> = results
        .into_iter()
        .zip(cases.iter())
        .map(|(r, c)| {
            r.unwrap_or_else(|| {
                let why = format!(
                    "not finished within the run deadline of {} s",
                    cfg.deadline.as_secs()
                );
                bare_report(c, Verdict::Error, why)
            })
        })
        .collect();
    report(&cfg.target.url, clock, cfg.strict, reports)
}

/// When a run started: a monotonic instant and the Unix time in seconds.
pub(crate) fn start_clock() -> (Instant, u64) {
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (Instant::now(), unix)
}

/// The report of a run against `target` that started at `clock`.
pub(crate) fn report(
    target: &str,
    clock: (Instant, u64),
    strict: bool,
    reports: Vec<CaseReport>,
) -> Report {
    Report {
        tool: "mqttspec",
        tool_version: env!("CARGO_PKG_VERSION"),
        target: target.to_string(),
        started: clock.1,
        duration_ms: clock.0.elapsed().as_millis() as u64,
        strict,
        summary: Summary::of(&reports),
        cases: reports,
    }
}

/// The report of a case that did not run (skipped) or did not finish.
pub(crate) fn bare_report(c: &Case, verdict: Verdict, reason: String) -> CaseReport {
    CaseReport {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        statements: c.statements.clone(),
        tags: c.tags.clone(),
        version: c.version.name(),
        file: c.path.display().to_string(),
        verdict,
        reason: Some(reason),
        failed_statement: None,
        duration_ms: 0,
        connections: Vec::new(),
        steps: Vec::<StepReport>::new(),
        findings: Vec::new(),
        wire: Vec::new(),
        port: None,
    }
}
