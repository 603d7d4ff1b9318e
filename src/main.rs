//! The `mqttspec` command: flags → library calls → exit status
//! (0 conformant, 1 a case failed, 2 could not run).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use mqttspec::case::{load_paths, Case, Selection};
use mqttspec::cli::{AnalyzeArgs, Cli, Command, RunArgs, Select, ServeArgs};
use mqttspec::report::{junit, text};
use mqttspec::run::{self, RunConfig};
use mqttspec::transport::tls_server::ServerFiles;
use mqttspec::transport::{Listener, Target};

/// mimalloc: capture analysis sets up and tears down state for every flow,
/// which the system allocator makes a large share of the cost. With
/// transparent huge pages (the default): without them, a capture of 20,000
/// open flows took 33,000 page faults instead of 350 and 50 % longer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mqttspec: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(run_cmd(*args))
        }
        Command::List(args) => {
            let cases = select(&args.select)?;
            for c in &cases {
                println!(
                    "{:<44} {:<6} [{}]  {}",
                    c.id,
                    c.version.name(),
                    c.statements.join(" "),
                    c.title
                );
            }
            println!("{} cases", cases.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules => {
            for r in mqttspec::rules::catalogue() {
                let versions: Vec<&str> = r.versions.iter().map(|v| v.name()).collect();
                println!(
                    "{:<40} {:<7} {:<12} [{}]  {}",
                    r.name,
                    format!("{:?}", r.actor).to_lowercase(),
                    versions.join(","),
                    r.statements.join(" "),
                    r.summary
                );
            }
            println!(
                "\nTLS/PKI requirements cases may cite (not MQTT normative statements; MQTT's security section 5 is non-normative):"
            );
            for r in mqttspec::spec::tls_requirements() {
                println!(
                    "{:<18} {:<7} {:<8} supports MQTT {}  {}",
                    r.id,
                    r.actor,
                    r.level,
                    r.related_to.unwrap_or("-"),
                    r.summary
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => analyze_cmd(args),
        Command::Serve(args) => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(serve_cmd(args))
        }
        Command::Certs(args) => {
            let opts = mqttspec::pki::PkiOptions {
                hosts: args.hosts,
                days: args.days,
            };
            let files = mqttspec::pki::generate(&args.out, &opts)?;
            for f in &files {
                println!("{}", f.display());
            }
            eprintln!("mqttspec: wrote {} files (test-only keys)", files.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Coverage(args) => {
            let cases = load_paths(&default_paths(&args.paths))?;
            let cells = mqttspec::coverage::compute(&cases);
            print!("{}", mqttspec::coverage::render(&cells, args.verbose));
            let related = mqttspec::coverage::related(&cases);
            print!(
                "{}",
                mqttspec::coverage::render_related(&related, args.verbose)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        paths.to_vec()
    }
}

fn select(s: &Select) -> anyhow::Result<Vec<Case>> {
    let cases = load_paths(&default_paths(&s.paths))?;
    let sel = Selection::new(&s.cases, &s.rules, &s.tags).map_err(anyhow::Error::msg)?;
    let picked: Vec<Case> = cases.into_iter().filter(|c| sel.matches(c)).collect();
    if picked.is_empty() {
        anyhow::bail!("no case matches the selection");
    }
    Ok(picked)
}

async fn run_cmd(args: RunArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.target)?;
    let (cases, not_applicable) = run::applicable(select(&args.select)?, &target);
    let (device, not_applicable): (Vec<Case>, Vec<Case>) = not_applicable
        .into_iter()
        .partition(|c| c.role == mqttspec::case::Role::Device);
    if cases.is_empty() {
        if !device.is_empty() && not_applicable.is_empty() {
            anyhow::bail!(
                "the selected cases are device cases: the suite plays the broker for them, run them with `mqttspec serve`"
            );
        }
        anyhow::bail!(
            "the selected cases are tagged `ws` and need a ws:// or wss:// target, not {}",
            target.url
        );
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
        anyhow::bail!("--jobs must be at least 1");
    }
    let spawned = match &args.spawn {
        Some(cmd) => Some(
            run::spawn::spawn(cmd, &target, Duration::from_secs(10))
                .await
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let tls_material = match target.scheme.uses_tls() {
        false => None,
        true => {
            let ca = args.ca.clone().or_else(|| {
                let p = args.certs.join("ca.pem");
                p.exists().then_some(p)
            });
            Some(mqttspec::transport::tls::Material {
                files: mqttspec::transport::tls::TlsFiles {
                    ca,
                    cert: args.cert.clone(),
                    key: args.key.clone(),
                },
                fixtures: args.certs.clone(),
            })
        }
    };
    let tls = match &tls_material {
        None => None,
        Some(m) => Some(m.with_choice(&Default::default())?),
    };
    // Fail fast with one clear line if the target is not there at all. A
    // WebSocket server that does not select `mqtt` is there: the cases say
    // so as a verdict (MQTT-6.0.0-4).
    match target.connect(Duration::from_secs(5), tls.as_ref()).await {
        Ok(_) | Err(mqttspec::transport::TransportError::Subprotocol(_)) => {}
        Err(e) => {
            if let Some(s) = spawned {
                s.stop().await;
            }
            anyhow::bail!(e);
        }
    }
    if !not_applicable.is_empty() {
        eprintln!(
            "mqttspec: {} cases tagged `ws` do not apply to {} and are not run",
            not_applicable.len(),
            target.url
        );
    }
    if !device.is_empty() {
        eprintln!(
            "mqttspec: {} device cases test a client and run with `mqttspec serve`, not here",
            device.len()
        );
    }
    let cfg = RunConfig {
        target,
        username: args.username.clone(),
        password: args.password.clone(),
        jobs,
        strict: args.strict,
        deadline: Duration::from_secs(args.deadline.max(1)),
        connect_timeout: Duration::from_secs(5),
        tls,
        tls_material,
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = text::Style {
        color,
        verbose: args.verbose,
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(cases.len() as u64);
        if let Ok(st) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
            b.set_style(st);
        }
        Some(b)
    } else {
        None
    };
    let on_case: Option<run::OnCase> = bar.clone().map(|b| {
        Arc::new(move |c: &mqttspec::report::CaseReport| {
            b.set_message(c.id.clone());
            b.inc(1);
        }) as run::OnCase
    });
    let report = run::run(cases, &cfg, on_case).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(s) = spawned {
        s.stop().await;
    }
    finish_run(&report, style, args.json.as_deref(), args.junit.as_deref())
}

fn analyze_cmd(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = mqttspec::analyze::Config::default();
    for p in &args.ports {
        if !cfg.ports.contains(p) {
            cfg.ports.push(*p);
        }
    }
    cfg.version = match args.mqtt_version.as_deref() {
        None => None,
        Some("3.1.1") | Some("4") => Some(mqttspec::codec::Version::V311),
        Some("5.0") | Some("5") => Some(mqttspec::codec::Version::V5),
        Some("3.1") | Some("3") => Some(mqttspec::codec::Version::V31),
        Some(v) => anyhow::bail!("--mqtt-version `{v}`: expected 3.1.1 or 5.0"),
    };
    if args.annotate.is_some() && args.files.len() != 1 {
        anyhow::bail!("--annotate takes exactly one input file");
    }
    let stdin = std::path::Path::new(mqttspec::analyze::STDIN);
    if args.annotate.is_some() && args.files[0] == stdin {
        anyhow::bail!("--annotate reads its input twice: give a file, not standard input");
    }
    if args.files.iter().filter(|f| *f == stdin).count() > 1 {
        anyhow::bail!("standard input (`-`) can be analyzed only once");
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let analysis = mqttspec::analyze::analyze_files(&args.files, &cfg, jobs);
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", mqttspec::analyze::text::render(&analysis, color));
    if let Some(p) = &args.json {
        let json = serde_json::to_string_pretty(&analysis)?;
        std::fs::write(p, json)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
    }
    if let Some(p) = &args.junit {
        let xml = mqttspec::analyze::junit::render(&analysis).map_err(anyhow::Error::msg)?;
        std::fs::write(p, xml).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
    }
    if let (Some(out), Some(input)) = (&args.annotate, args.files.first()) {
        if let Some(f) = analysis.files.first() {
            let n = mqttspec::analyze::annotate::write(input, out, f)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            eprintln!("mqttspec: wrote {} ({n} frames annotated)", out.display());
        }
    }
    let s = &analysis.summary;
    if s.unreadable == s.files {
        let why = analysis
            .files
            .iter()
            .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.file)))
            .collect::<Vec<_>>()
            .join("; ");
        anyhow::bail!("nothing readable: {why}");
    }
    Ok(if s.findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn serve_cmd(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse_listen(&args.listen)?;
    if args.watch && args.port_per_case.is_some() {
        anyhow::bail!("--port-per-case is for device cases, not --watch");
    }
    let tls = serve_tls(&args, &target)?;
    // SIGTERM is caught from before the address is announced: a client (or
    // test) may stop the run as soon as it knows where it listens.
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(not(unix))]
    let term = None::<()>;
    if !args.watch {
        return serve_cases_cmd(args, target, tls, stop_signal(None, term)).await;
    }
    let note = tls.as_ref().map(ServeTls::note).unwrap_or_default();
    let listener = Listener::bind(&target, tls.map(|t| t.config)).await?;
    eprintln!(
        "mqttspec: watching on {}{note}{}; Ctrl-C or SIGTERM ends the watch and writes the report",
        listener.url(),
        args.duration
            .map(|d| format!(" for {}", humantime::format_duration(d)))
            .unwrap_or_default()
    );
    let report = mqttspec::serve::watch(listener, stop_signal(args.duration, term)).await?;
    if let Some(path) = &args.json {
        write_atomically(path, &serde_json::to_vec_pretty(&report)?)?;
    }
    print!("{}", mqttspec::serve::text::render(&report));
    Ok(if report.findings() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The server side of TLS for `mqtts://` and `wss://` listeners, with the
/// files it came from: `--cert/--key` or CERTS/server.pem and .key, `--ca`
/// or CERTS/ca.pem when present. TLS options on a plain listener are an error.
struct ServeTls {
    config: Arc<rustls::ServerConfig>,
    files: ServerFiles,
}

fn serve_tls(args: &ServeArgs, target: &Target) -> anyhow::Result<Option<ServeTls>> {
    if !target.scheme.uses_tls() {
        if args.cert.is_some()
            || args.ca.is_some()
            || args.require_client_cert
            || args.certs.is_some()
        {
            anyhow::bail!(
                "--cert, --key, --ca, --require-client-cert and --certs are for a TLS listener: use --listen mqtts://… or wss://…, not {}",
                target.url
            );
        }
        return Ok(None);
    }
    let dir = args.certs.clone().unwrap_or_else(|| PathBuf::from("certs"));
    let (cert, key) = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => {
            let cert = dir.join("server.pem");
            if !cert.exists() {
                anyhow::bail!(
                    "{} needs the suite's server certificate: give --cert FILE --key FILE, or --certs DIR holding server.pem and server.key (`mqttspec certs --out DIR` writes them); there is no {}",
                    target.url,
                    cert.display()
                );
            }
            (cert, dir.join("server.key"))
        }
    };
    let ca = args.ca.clone().or_else(|| {
        let p = dir.join("ca.pem");
        p.exists().then_some(p)
    });
    let files = ServerFiles {
        cert,
        key,
        ca,
        require_client_cert: args.require_client_cert,
    };
    let config = mqttspec::transport::tls_server::server_config(&files)?;
    Ok(Some(ServeTls { config, files }))
}

impl ServeTls {
    /// What the announcement says about client certificates.
    fn note(&self) -> String {
        match (&self.files.ca, self.files.require_client_cert) {
            (Some(ca), true) => format!(
                " (client certificates required, verified against {})",
                ca.display()
            ),
            (Some(ca), false) => format!(
                " (client certificates optional, verified against {})",
                ca.display()
            ),
            (None, _) => " (no client certificates asked for)".into(),
        }
    }
}

/// Resolves when the watch should end: the duration elapsed, Ctrl-C or
/// SIGTERM (`term`, registered by the caller).
async fn stop_signal(
    duration: Option<Duration>,
    #[cfg(unix)] term: Option<tokio::signal::unix::Signal>,
    #[cfg(not(unix))] term: Option<()>,
) -> String {
    let elapsed = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let term = async {
        #[cfg(unix)]
        if let Some(mut s) = term {
            s.recv().await;
            return;
        }
        #[cfg(not(unix))]
        let _ = term;
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = elapsed => "duration".into(),
        _ = tokio::signal::ctrl_c() => "interrupted".into(),
        _ = term => "terminated".into(),
    }
}

/// Write the report `data` to `path` through a temporary file in the same
/// directory, so a reader never sees half a report.
fn write_atomically(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| anyhow::anyhow!("cannot write report {}: {e}", path.display()))
}

/// `mqttspec serve [CASES…]`: device cases, one after the other on one
/// listener or all at once on a listener each (`--port-per-case`).
async fn serve_cases_cmd(
    args: ServeArgs,
    mut target: Target,
    tls: Option<ServeTls>,
    stop: impl std::future::Future<Output = String>,
) -> anyhow::Result<ExitCode> {
    let mut select_args = args.select;
    if select_args.paths.is_empty() {
        select_args.paths.push(PathBuf::from("cases/device"));
    }
    let cases: Vec<Case> = select(&select_args)?
        .into_iter()
        .filter(|c| c.role == mqttspec::case::Role::Device)
        .collect();
    if cases.is_empty() {
        anyhow::bail!(
            "no device case (role = \"device\") in the selection: broker cases run with `mqttspec run`"
        );
    }
    let note = tls.as_ref().map(ServeTls::note).unwrap_or_default();
    let config = tls.map(|t| t.config);
    let (listeners, how) = match args.port_per_case {
        None => {
            let l = Listener::bind(&target, config).await?;
            target.port = l.port();
            target.url = l.url();
            (run::Listeners::Shared(Arc::new(l)), "one after the other")
        }
        Some(base) => {
            let ls = bind_per_case(&target, config, base, &cases).await?;
            target.port = base;
            target.url = match ls.last() {
                Some(last) => ls[0].url_to(last.port()),
                None => target.url,
            };
            (
                run::Listeners::PerCase(ls),
                "all at once, one port per case",
            )
        }
    };
    eprintln!(
        "mqttspec: serving {} device cases on {}{note}, {how}{}",
        cases.len(),
        target.url,
        if args.exec.is_some() || args.prompt {
            ""
        } else {
            "; connect the device when a case waits for it"
        }
    );
    let cfg = run::ServeConfig {
        listen: target,
        exec: args.exec.clone(),
        prompt: args.prompt,
        strict: args.strict,
    };
    let style = text::Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        verbose: args.verbose,
    };
    let on_case: Option<run::OnCase> = Some(Arc::new(|c: &mqttspec::report::CaseReport| {
        // Progress only: a closed stderr must not stop the run.
        use std::io::Write;
        let port = c.port.map(|p| format!(" (port {p})")).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "mqttspec: {} {}{port}",
            c.verdict.name(),
            c.id
        );
    }));
    let report = run::serve_cases(cases, listeners, &cfg, on_case, stop).await;
    finish_run(&report, style, args.json.as_deref(), args.junit.as_deref())
}

/// `--port-per-case BASE`: a listener on BASE+i for the i-th case, every
/// one bound before any case starts.
async fn bind_per_case(
    target: &Target,
    config: Option<Arc<rustls::ServerConfig>>,
    base: u16,
    cases: &[Case],
) -> anyhow::Result<Vec<Arc<Listener>>> {
    let last = u32::from(base) + cases.len() as u32 - 1;
    if base == 0 || last > u32::from(u16::MAX) {
        anyhow::bail!(
            "--port-per-case {base}: the {} cases need ports {base} to {last}, which must lie within 1-65535",
            cases.len()
        );
    }
    let mut listeners = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut t = target.clone();
        t.port = base + i as u16;
        let l = Listener::bind(&t, config.clone()).await.map_err(|e| {
            anyhow::anyhow!(
                "--port-per-case: port {} for case {i} ({}): {e}",
                t.port,
                case.id
            )
        })?;
        listeners.push(Arc::new(l));
    }
    Ok(listeners)
}

/// The end of `run` and of `serve CASES…`: the terminal report, the JSON and
/// JUnit files when asked for, and the exit status.
fn finish_run(
    report: &mqttspec::report::Report,
    style: text::Style,
    json: Option<&std::path::Path>,
    junit: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    print!("{}", text::render(report, style));
    if let Some(p) = json {
        write_atomically(p, report.to_json().as_bytes())?;
    }
    if let Some(p) = junit {
        let xml = junit::render(report).map_err(anyhow::Error::msg)?;
        write_atomically(p, xml.as_bytes())?;
    }
    Ok(if report.conformant() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
