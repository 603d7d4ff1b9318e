//! Device mode (`mqttspec serve CASES…`): the suite plays the broker for
//! device cases. On one listener the cases run one after the other (one
//! device); with a listener per case (`--port-per-case`) they all run at
//! once, each waiting for its own device on its own port. When the stop
//! future resolves (Ctrl-C, SIGTERM) every case under way ends as an
//! error, the cases not started are skipped, and the report covers them all.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::prompt::{self, Answer, Prompter};
use super::{bare_report, exec, report, run_id, start_clock, CaseEnv, OnCase};
use crate::case::{Case, Role};
use crate::report::{CaseReport, Report};
use crate::transport::{Listener, Target};
use crate::verdict::Verdict;

/// Settings of a device-mode run.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address listened on, as given (host and scheme for templates;
    /// its URL names the run in the report).
    pub listen: Target,
    /// `--exec` command template started at each case's first `accept`.
    pub exec: Option<String>,
    /// `--prompt`: ask the operator before each case (cases one after the
    /// other only).
    pub prompt: bool,
    pub strict: bool,
}

/// Where the device cases listen.
pub enum Listeners {
    /// One listener; the cases run one after the other.
    Shared(Arc<Listener>),
    /// The i-th listener for the i-th device case; the cases run all at once.
    PerCase(Vec<Arc<Listener>>),
}

/// Run the device cases among `cases` (broker cases are left out) with the
/// suite as the broker, until done or until `stop` resolves with its reason.
pub async fn serve_cases(
    cases: Vec<Case>,
    listeners: Listeners,
    cfg: &ServeConfig,
    on_case: Option<OnCase>,
    stop: impl Future<Output = String>,
) -> Report {
    let clock = start_clock();
    let run_id = run_id();
    let device: Vec<Arc<Case>> = cases
        .into_iter()
        .filter(|c| c.role == Role::Device)
        .map(Arc::new)
        .collect();
    let env = |index: usize, listener: Arc<Listener>| CaseEnv {
        target: cfg.listen.clone(),
        username: None,
        password: None,
        run_id: run_id.clone(),
        index,
        connect_timeout: Duration::from_secs(5),
        tls: None,
        tls_material: None,
        listener: Some(listener),
        exec: cfg.exec.clone(),
    };
    let reports = match listeners {
        Listeners::Shared(l) => {
            let envs = (0..device.len()).map(|i| env(i, l.clone())).collect();
            let prompter = cfg.prompt.then(Operator::new);
            one_after_the_other(&device, envs, prompter, on_case, stop).await
        }
        Listeners::PerCase(ls) => {
            let envs = ls.into_iter().enumerate().map(|(i, l)| env(i, l)).collect();
            all_at_once(&device, envs, on_case, stop).await
        }
    };
    report(&cfg.listen.url, clock, cfg.strict, reports)
}

/// `--prompt`: the terminal to ask on, or None when there is none.
struct Operator(Option<Prompter>);

impl Operator {
    fn new() -> Operator {
        Operator(Prompter::new())
    }

    /// Ask the operator to make the device act for `case`; None when the
    /// case may run, else its report.
    async fn ask(&mut self, case: &Case, env: &CaseEnv) -> Option<CaseReport> {
        let Some(prompter) = self.0.as_mut() else {
            return Some(bare_report(
                case,
                Verdict::Skip,
                "not run: --prompt needs a terminal on stdin to ask the operator".to_string(),
            ));
        };
        let Some(listener) = &env.listener else {
            return None;
        };
        // Connections queued before the question are not this case's device.
        listener.drop_queued().await;
        let question = prompt::question(
            &case.id,
            case.trigger.as_deref().unwrap_or(""),
            &listener.url(),
            &exec::client_id(env, "dev"),
            &exec::topic_prefix(env, case),
        );
        match prompter.ask(&question).await {
            Answer::Go => None,
            Answer::Skip(why) => Some(bare_report(case, Verdict::Skip, why)),
            Answer::NoAnswer => Some(bare_report(
                case,
                Verdict::Inconclusive,
                format!(
                    "no answer at the prompt within {} s",
                    prompt::ANSWER_WITHIN.as_secs()
                ),
            )),
        }
    }
}

/// One case at a time; a stop ends the case under way (its program is
/// killed with it) and skips the rest. With an operator, each case starts
/// with a question on the terminal.
async fn one_after_the_other(
    cases: &[Arc<Case>],
    envs: Vec<CaseEnv>,
    mut operator: Option<Operator>,
    on_case: Option<OnCase>,
    stop: impl Future<Output = String>,
) -> Vec<CaseReport> {
    tokio::pin!(stop);
    let mut stopped: Option<String> = None;
    let mut reports = Vec::new();
    for (case, env) in cases.iter().zip(envs) {
        if let Some(why) = &stopped {
            let why = format!("not run: the run was stopped ({why})");
            reports.push(bare_report(case, Verdict::Skip, why));
            continue;
        }
        let asked = match operator.as_mut() {
            Some(op) => tokio::select! {
                r = op.ask(case, &env) => r,
                why = &mut stop => {
                    let reason = format!("not run: the run was stopped ({why})");
                    stopped = Some(why);
                    Some(bare_report(case, Verdict::Skip, reason))
                }
            },
            None => None,
        };
        if let Some(r) = asked {
            if let Some(f) = &on_case {
                f(&r);
            }
            reports.push(r);
            continue;
        }
        let r = tokio::select! {
            r = exec::run_case(case, &env) => r,
            why = &mut stop => {
                let reason = format!("not finished: the run was stopped ({why})");
                stopped = Some(why);
                bare_report(case, Verdict::Error, reason)
            }
        };
        if let Some(f) = &on_case {
            f(&r);
        }
        reports.push(r);
    }
    reports
}

/// Every case at once, each on its own listener; reports in case order,
/// each with its port. A stop ends every case still under way.
async fn all_at_once(
    cases: &[Arc<Case>],
    envs: Vec<CaseEnv>,
    on_case: Option<OnCase>,
    stop: impl Future<Output = String>,
) -> Vec<CaseReport> {
    let ports: Vec<Option<u16>> = envs
        .iter()
        .map(|e| e.listener.as_ref().map(|l| l.port()))
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (index, (case, env)) in cases.iter().zip(envs).enumerate() {
        let case = case.clone();
        let on_case = on_case.clone();
        let port = ports[index];
        set.spawn(async move {
            let mut r = exec::run_case(&case, &env).await;
            r.port = port;
            if let Some(f) = &on_case {
                f(&r);
            }
            (index, r)
        });
    }
    let mut results: Vec<Option<CaseReport>> = vec![None; cases.len()];
    tokio::pin!(stop);
    let stopped = loop {
        tokio::select! {
            next = set.join_next() => match next {
                Some(Ok((i, r))) => results[i] = Some(r),
                // A panicked case stays None and is reported as an error.
                Some(Err(_)) => {}
                None => break None,
            },
            why = &mut stop => break Some(why),
        }
    };
    // Dropping a case's task kills its program; cases that finished in the
    // meantime keep their reports.
    set.abort_all();
    while let Some(next) = set.join_next().await {
        if let Ok((i, r)) = next {
            results[i] = Some(r);
        }
    }
    results
        .into_iter()
        .zip(cases)
        .zip(ports)
        .map(|((r, case), port)| {
            r.unwrap_or_else(|| {
                let why = match &stopped {
                    Some(why) => format!("not finished: the run was stopped ({why})"),
                    None => "the case ended abnormally (the suite's task failed)".into(),
                };
                let mut r = bare_report(case, Verdict::Error, why);
                r.port = port;
                if let Some(f) = &on_case {
                    f(&r);
                }
                r
            })
        })
        .collect()
}
