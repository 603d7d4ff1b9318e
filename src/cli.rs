//! Command-line flags (clap). Turned into library calls by `main.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// MQTT 3.1.1 / 5.0 conformance test suite.
///
/// Exit status: 0 conformant (or nothing found), 1 a case failed, 2 could not run.
#[derive(Debug, Parser)]
#[command(name = "mqttspec", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cases against a broker (the suite plays the clients).
    Run(Box<RunArgs>),
    /// List the cases that would run, with their statements.
    List(ListArgs),
    /// List the passive rules: name, statement IDs, actor, meaning.
    Rules,
    /// Which normative statements are checked by a rule or a case, per version and role.
    Coverage(CoverageArgs),
    /// Write the test PKI (CA, server, client and broken client certificates) as PEM files.
    ///
    /// Files: ca.pem/.key, server.pem/.key, client.pem/.key, foreign-ca.pem/.key,
    /// client-foreign, client-expired, client-notyet, client-noclientauth,
    /// server-wronghost (.pem/.key each). Test-only keys: never use them in production.
    Certs(CertsArgs),
    /// Play the broker: let MQTT clients (devices, client libraries) connect and judge them.
    ///
    /// Without --watch, runs device cases (role = "device", default
    /// cases/device) one after the other (all at once with
    /// --port-per-case): each waits for the device to connect (started by
    /// --exec, asked of the operator with --prompt, or connecting by
    /// itself), scripts the broker's side and checks
    /// what the client does. Ctrl-C or SIGTERM ends the cases under way as
    /// errors and skips the rest; the reports are written all the same.
    ///
    /// With --watch, a small conformant broker serves any number of clients
    /// (routing, retained messages, QoS 0/1/2, persistent sessions, wills,
    /// keep alive) and every connection is judged passively by the client
    /// rules. The report is written when the watch stops: after --duration,
    /// on Ctrl-C or on SIGTERM.
    ///
    /// Over mqtts:// (or wss://) the suite presents --cert/--key; with --ca
    /// it verifies client certificates, with --require-client-cert it
    /// refuses clients without one. A failed handshake is in the report:
    /// watch mode lists the connection with the TLS reason (the alert or
    /// error), a device case ends as an error with it.
    ///
    /// Exit status: 0 no finding (no case failed), 1 findings (a case
    /// failed), 2 could not listen (or bad certificate files).
    Serve(ServeArgs),
    /// Check every MQTT flow of pcap/pcapng captures against the same rules, offline.
    ///
    /// Exit status: 0 no finding, 1 findings, 2 nothing readable.
    Analyze(AnalyzeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen: mqtt://HOST:PORT (TCP, port 1883 by default), mqtts:// (TLS, 8883),
    /// ws://HOST:PORT (WebSocket, 80) or wss:// (WebSocket over TLS, 443); port 0 picks a
    /// free port, shown on stderr. WebSocket listeners take any request path and select
    /// the subprotocol `mqtt`; a client that does not offer it is refused (MQTT-6.0.0-3)
    #[arg(long, value_name = "URL", default_value = "mqtt://127.0.0.1:1883")]
    pub listen: String,
    /// Run no case: serve any number of clients and judge them passively
    #[arg(long)]
    pub watch: bool,
    /// Stop after this long (e.g. 90s, 5m, 1h) [default: until Ctrl-C or SIGTERM]
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Also write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Device cases: also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Device cases: shell command that makes the device connect and act, started at
    /// each case's first `accept` and killed at its end. Templated: {host} {port}
    /// {client_id} {topic} {case} {trigger}, e.g.
    /// "mosquitto_pub -h {host} -p {port} -i {client_id} -t {topic}/a -m x -q 1"
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// Device cases: give the i-th case (0, 1, … in run order) a listener of its own on
    /// port BASE+i, and run all cases at once, one device instance per port ({port} in
    /// --exec is the case's port). The host and scheme come from --listen, its port is
    /// not used. Every port is bound before any case starts
    #[arg(long, value_name = "BASE")]
    pub port_per_case: Option<u16>,
    /// Device cases: for a device driven by hand, ask on the terminal before each case
    /// to make the device act (e.g. "publish a message at QoS 1 to any topic"), then
    /// wait for Enter (s + Enter skips the case). Cases are skipped, and reported as
    /// such, when stdin is not a terminal. Without --exec or --prompt the device is
    /// expected to connect and act by itself
    #[arg(long, conflicts_with_all = ["exec", "port_per_case", "watch"])]
    pub prompt: bool,
    /// Device cases: non-strict verdicts count as failures
    #[arg(long)]
    pub strict: bool,
    /// Device cases: show every case's wire log
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// mqtts:// and wss://: the suite's server certificate (PEM, leaf first), with --key
    /// [default: CERTS/server.pem]
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// mqtts:// and wss://: private key (PEM) of --cert [default: CERTS/server.key]
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// mqtts:// and wss://: CA certificate (PEM) client certificates are verified against;
    /// a client presenting a certificate it did not sign (or an expired one) is refused at
    /// the handshake [default: CERTS/ca.pem when present]
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// mqtts:// and wss://: refuse a client without a valid certificate signed by --ca at
    /// the TLS handshake (mutual TLS)
    #[arg(long)]
    pub require_client_cert: bool,
    /// mqtts:// and wss://: directory with server.pem, server.key and ca.pem, as written by
    /// `mqttspec certs` [default: certs]
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,
    /// Device cases to run [default: cases/device] and how to select them
    #[command(flatten)]
    pub select: Select,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Directory to write into (created if missing)
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub out: PathBuf,
    /// Extra server certificate name or IP (repeatable); localhost, 127.0.0.1 and ::1 are always in
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Validity of the good certificates, in days
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files: pcap or pcapng, plain or gzip-compressed (`.gz`); `-` reads standard
    /// input (e.g. `tcpdump -U -w - port 1883 | mqttspec analyze -`)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Also treat flows on this TCP port as MQTT (repeatable; 1883 and 8883 always are).
    /// Flows on any port that start with a CONNECT, or with a WebSocket upgrade
    /// offering the `mqtt` subprotocol, are MQTT too
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// MQTT version of flows seen without CONNECT: 3.1.1 or 5.0 [default: guess]
    #[arg(long, value_name = "V")]
    pub mqtt_version: Option<String>,
    /// Write the JSON analysis to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE (one testcase per flow)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a copy of the (single) input with a pcapng comment on each frame with a finding
    #[arg(long, value_name = "OUT.pcapng")]
    pub annotate: Option<PathBuf>,
    /// Files analyzed at once [default: number of cores]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct Select {
    /// Case files or directories [default: cases]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only cases whose id matches this glob (repeatable), e.g. 'suback-*'
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Only cases citing a statement matching this glob (repeatable), e.g. 'MQTT-3.8.*' or 'RFC5280-*'
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Only cases with this tag (repeatable)
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Broker URL: mqtt://HOST[:PORT] (TCP, default port 1883), mqtts:// (TLS, 8883),
    /// ws://HOST[:PORT][/PATH] (WebSocket, port 80, path /mqtt), wss:// (WebSocket over TLS, 443).
    /// Cases tagged `ws` run on ws:// and wss:// only.
    #[arg(long, short = 't', value_name = "URL")]
    pub target: String,
    #[command(flatten)]
    pub select: Select,
    /// Cases run at once [default: number of cores]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// User name for every CONNECT unless a case sets its own
    #[arg(long, short = 'u', value_name = "U")]
    pub username: Option<String>,
    /// Password for every CONNECT unless a case sets its own
    #[arg(long, short = 'P', value_name = "P", requires = "username")]
    pub password: Option<String>,
    /// Write the JSON report to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Count non-strict verdicts as failures (exit 1)
    #[arg(long)]
    pub strict: bool,
    /// Start the broker with this shell command, wait for its port, stop it at the end
    #[arg(long, value_name = "CMD")]
    pub spawn: Option<String>,
    /// Deadline for the whole run, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub deadline: u64,
    /// Show details (steps, wire log) of passing cases too
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// mqtts:// and wss://: CA certificate (PEM) that signed the broker's certificate [default: CERTS/ca.pem]
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// mqtts:// and wss://: client certificate (PEM) to present, with --key
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// mqtts:// and wss://: private key (PEM) of --cert
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Directory of the test PKI fixtures (see `certs/README.md`)
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub certs: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: Select,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Case files or directories [default: cases]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also list the statement IDs checked and not checked
    #[arg(long, short = 'v')]
    pub verbose: bool,
}
