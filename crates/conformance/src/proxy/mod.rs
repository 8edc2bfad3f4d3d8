//! The interceptor harness: any proxy, ours or a port, driven through a command template.
//!
//! The model, per scenario (`proxy/*` in the manifest, files `scenarios/NAME.json`, loaded
//! by [`scenarios`] as [`Scenario`]s):
//!
//! 1. start the mock upstream behind TLS (agentlog-mock-upstream's `TlsFixture`, its own CA) and a
//!    plain-HTTP route target (`mocks::plain_upstream`);
//! 2. write into a fresh scratch directory a CA for the port and a ready leaf, the upstream's
//!    CA and the scenario (`${ROUTE_TARGET}` expanded);
//! 3. pick a free loopback port, expand the [`Template`] and launch it under `sh -c` in its
//!    own process group;
//! 4. wait until it listens; 5. send the requests through it with a real HTTPS client
//!    trusting only the port CA, reading its log as each response ends;
//! 6. stop it with `SIGTERM` and read its log; 7. judge what the upstreams received and the
//!    events written, and collect the verdicts into a [`Report`].
//!
//! A scenario matched by an `--unsupported` glob is not run: the port is launched on it and
//! must refuse it (exit status 2 and a message, `refusal.rs`); it is then reported
//! unsupported, and fails otherwise.
//! A port that misbehaves fails its scenario (a [`Verdict::Fail`] with its differences, every
//! one redacted with the scenario's secrets); only the harness itself failing (a fixture, the
//! scratch directory, the port's certificates) ends a run with a [`RunError`]. The contract a
//! port implements is documented in `conformance/scenarios/README.md`.
//!
//! ```no_run
//! use agentlog_conformance::proxy::{Harness, Template, scenarios};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let template = Template::parse("python3 -m myproxy --listen {listen} --log {log} {secrets}")?;
//! let harness = Harness::new(template, "myproxy");
//! let report = harness.run(&harness.select(scenarios()?), |_| {}).await?;
//! assert_eq!(report.failed(), 0, "{}", report.summary());
//! # Ok(())
//! # }
//! ```

mod certs;
mod client;
mod exercise;
mod expand;
mod judge;
mod launch;
mod refusal;
mod report;
mod scenario;
mod template;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentlog_mock_upstream::{FIXTURE_HOSTS, FixtureError, TlsFixture};
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::ScanError;
use wiremock::MockServer;

pub use certs::CertError;
pub use client::ClientError;
pub use report::{Outcome, Report, Verdict};
pub use scenario::{
    ExpectedRequest, RequestSpec, Scenario, ScenarioError, SecretSpec, SecretSpecError,
    all as scenarios,
};
pub use template::{PLACEHOLDERS, Template, TemplateError};

use crate::secrets;
use crate::select::{Unsupported, glob_match};

use expand::Expander;
use judge::{Expected, Forward, Observed, Received};
use template::{Values, quote};

/// Why the harness itself failed on a scenario (not the port): the run stops.
#[derive(Debug, thiserror::Error)]
#[error("{scenario}: {source}")]
#[non_exhaustive]
pub struct RunError {
    /// The scenario's id, `proxy/NAME`.
    pub scenario: String,
    /// What failed.
    pub source: SetupError,
}

/// What the harness could not set up for a scenario.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The mock upstream behind TLS did not start.
    #[error("TLS fixture: {0}")]
    Fixture(#[source] FixtureError),
    /// The scratch directory could not be created.
    #[error("scratch directory: {0}")]
    Scratch(#[source] std::io::Error),
    /// The port's certificates could not be made.
    #[error(transparent)]
    Certs(#[from] CertError),
    /// A file of the scratch directory could not be written.
    #[error("write {file}: {source}")]
    Write {
        /// The file's name (`upstream-ca.pem`, `scenario.json`).
        file: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The scenario's secrets cannot be searched for (its id, then the scanner's reason).
    #[error("{scenario}: {source}")]
    Secrets {
        /// The scenario's id.
        scenario: String,
        /// The scanner's reason, naming the secret (never its value).
        source: ScanError,
    },
    /// No free loopback port.
    #[error("free port: {0}")]
    FreePort(#[source] std::io::Error),
    /// `sh` could not be started.
    #[error("run sh: {0}")]
    Launch(#[source] std::io::Error),
    /// The HTTPS client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// How the harness runs our own proxy (`--self`): these arguments after the binary's path.
pub const SELF_ARGS: &str = "proxy --listen {listen} --event-log {log} --ca-dir {ca_dir} --upstream-ca {upstream_ca} {connect_to_flags} {secrets} {scenario_flags} --quiet";

/// The `--self` template for the agentlog binary at `exe`.
pub fn self_template(exe: &Path) -> String {
    format!("{} {SELF_ARGS}", quote(&exe.display().to_string()))
}

/// Default time a port has to start listening.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Time a port has to exit after `SIGTERM`.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// One run of the harness against one port.
#[derive(Clone, Debug)]
pub struct Harness {
    /// How to launch the port.
    pub template: Template,
    /// What the report calls the port.
    pub subject: String,
    /// The scenarios the port declares unsupported.
    pub unsupported: Unsupported,
    /// When not empty, only the scenarios these globs match are selected.
    pub only: Vec<String>,
    /// Time the port has to listen.
    pub startup_timeout: Duration,
    /// Time the port has to exit after `SIGTERM`.
    pub stop_timeout: Duration,
}

impl Harness {
    /// A harness for `template` with the default time limits and every scenario selected.
    pub fn new(template: Template, subject: impl Into<String>) -> Harness {
        Harness {
            template,
            subject: subject.into(),
            unsupported: Unsupported::default(),
            only: Vec::new(),
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            stop_timeout: STOP_TIMEOUT,
        }
    }

    /// The scenarios `--only` selects (all when it is empty).
    pub fn select(&self, scenarios: Vec<Scenario>) -> Vec<Scenario> {
        scenarios
            .into_iter()
            .filter(|s| self.only.is_empty() || self.only.iter().any(|g| glob_match(g, &s.id)))
            .collect()
    }

    /// Runs `scenarios` in order; `progress` sees each outcome as it is decided. `Err`: the
    /// harness itself failed (a fixture, the scratch directory), not the port.
    pub async fn run(
        &self,
        scenarios: &[Scenario],
        mut progress: impl FnMut(&Outcome),
    ) -> Result<Report, RunError> {
        let mut outcomes = Vec::with_capacity(scenarios.len());
        for scenario in scenarios {
            let started = Instant::now();
            let verdict = if self.unsupported.matches(&scenario.id) {
                self.refuse_one(scenario).await
            } else {
                self.run_one(scenario).await
            };
            let verdict = verdict.map_err(|source| RunError {
                scenario: scenario.id.clone(),
                source,
            })?;
            let outcome = Outcome {
                id: scenario.id.clone(),
                verdict,
                duration: started.elapsed(),
            };
            progress(&outcome);
            outcomes.push(outcome);
        }
        Ok(Report {
            subject: self.subject.clone(),
            outcomes,
        })
    }

    /// Stages `scenario` and launches the port on it.
    async fn launch(&self, scenario: &Scenario) -> Result<Launched, SetupError> {
        let stage = Stage::start(scenario).await?;
        let pairs = scenario.secrets.iter();
        let redactor = secrets::redactor(pairs.map(|s| (s.name.as_str(), s.value.as_str())))
            .map_err(|source| SetupError::Secrets {
                scenario: scenario.id.clone(),
                source,
            })?;
        let listen = launch::free_port().map_err(SetupError::FreePort)?;
        let command = self.template.expand(&stage.values(scenario, listen));
        let port = launch::spawn(&command, stage.dir()).map_err(SetupError::Launch)?;
        Ok(Launched {
            stage,
            redactor,
            listen,
            command,
            port,
        })
    }

    /// A scenario declared unsupported: the port is started on it and must refuse it.
    async fn refuse_one(&self, scenario: &Scenario) -> Result<Verdict, SetupError> {
        let Launched {
            redactor,
            listen,
            command,
            port,
            stage: _stage,
        } = self.launch(scenario).await?;
        Ok(refusal::judge(port, listen, self.startup_timeout, &command, &redactor).await)
    }

    /// One scenario: stage, launch, exercise, stop, judge.
    async fn run_one(&self, scenario: &Scenario) -> Result<Verdict, SetupError> {
        let Launched {
            stage,
            redactor,
            listen,
            command,
            mut port,
        } = self.launch(scenario).await?;
        if let Err(why) = port.wait_ready(listen, self.startup_timeout).await {
            let (output, _) = port.stop(Duration::from_secs(2)).await;
            let diffs = refusal::not_started(
                &format!("startup: the port {why}"),
                &output,
                &command,
                &redactor,
            );
            return Ok(Verdict::Fail(diffs));
        }
        let client = client::client(listen, &stage.certs.ca_pem)?;
        let exchanged =
            exercise::exercise(&client, &scenario.requests, &stage.expander, &stage.log()).await;
        drop(client);
        let (output, stopped) = port.stop(self.stop_timeout).await;
        let log = crate::capped::read(&stage.log(), launch::MAX_READ).ok();
        let (responses, logged) = exchanged
            .into_iter()
            .map(|e| (e.response, e.logged))
            .unzip();
        let observed = Observed {
            responses,
            logged,
            upstream: received(stage.fixture.mock()).await,
            route_target: received(&stage.route_target).await,
            log: log.as_ref().map(|(bytes, _)| bytes.clone()),
            output: [output.stdout, output.stderr].concat(),
        };
        let mut diffs = judge::judge(&stage.expected(scenario), &observed, &redactor);
        if log.is_some_and(|(_, more)| more) {
            diffs.insert(
                0,
                format!("log: over {} bytes, read no further", launch::MAX_READ),
            );
        }
        if let Err(e) = stopped {
            diffs.insert(0, format!("stop: the port {e}"));
        }
        Ok(if diffs.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(diffs)
        })
    }
}

/// The requests `server` received, in order.
async fn received(server: &MockServer) -> Vec<Received> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| Received {
            path: r.url.path().to_owned(),
            query: r.url.query().map(str::to_owned),
            headers: r
                .headers
                .iter()
                .map(|(n, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (n.as_str().to_ascii_lowercase(), value)
                })
                .collect(),
            body: r.body.clone(),
        })
        .collect()
}

/// A port launched on a staged scenario.
struct Launched {
    stage: Stage,
    redactor: Redactor,
    listen: SocketAddr,
    command: String,
    port: launch::Port,
}

/// Everything set up for one scenario run before the port starts.
struct Stage {
    fixture: TlsFixture,
    route_target: MockServer,
    scratch: tempfile::TempDir,
    certs: certs::PortCerts,
    expander: Expander,
}

impl Stage {
    async fn start(scenario: &Scenario) -> Result<Stage, SetupError> {
        let fixture = TlsFixture::start().await.map_err(SetupError::Fixture)?;
        let route_target = agentlog_mock_upstream::mocks::plain_upstream().await;
        let scratch = tempfile::tempdir().map_err(SetupError::Scratch)?;
        let target = (
            "ROUTE_TARGET".to_owned(),
            route_target.address().to_string(),
        );
        let mut vars: Vec<(String, String)> = scenario
            .placeholders
            .iter()
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        vars.push(target.clone());
        let expander = Expander::new(vars);
        let certs = certs::write(scratch.path(), &hosts(scenario, &expander))?;
        let dir = scratch.path();
        let write = |file: &'static str, bytes: &[u8]| {
            std::fs::write(dir.join(file), bytes)
                .map_err(|source| SetupError::Write { file, source })
        };
        write("upstream-ca.pem", fixture.ca_pem().as_bytes())?;
        let routed = Expander::new(vec![target]).value(&scenario.json);
        write("scenario.json", routed.to_string().as_bytes())?;
        Ok(Stage {
            fixture,
            route_target,
            scratch,
            certs,
            expander,
        })
    }

    fn dir(&self) -> &Path {
        self.scratch.path()
    }

    fn log(&self) -> PathBuf {
        self.dir().join("events.jsonl")
    }

    /// The placeholders' values for a port listening on `listen`.
    fn values(&self, scenario: &Scenario, listen: SocketAddr) -> Values {
        let path = |p: &Path| vec![p.display().to_string()];
        let connect_to = self.connect_to(scenario);
        let mut values = Values::new();
        values.insert("listen", vec![listen.to_string()]);
        values.insert("log", path(&self.log()));
        values.insert("ca_cert", path(&self.certs.ca_cert));
        values.insert("ca_key", path(&self.certs.ca_key));
        values.insert("ca_dir", path(&self.certs.ca_dir));
        values.insert("leaf_cert", path(&self.certs.leaf_cert));
        values.insert("leaf_key", path(&self.certs.leaf_key));
        values.insert("upstream_ca", path(&self.dir().join("upstream-ca.pem")));
        values.insert("connect_to", vec![connect_to.join(",")]);
        values.insert("connect_to_flags", flags("--connect-to", &connect_to));
        values.insert("secrets", secret_flags(scenario));
        values.insert("scenario_flags", self.scenario_flags(scenario));
        values.insert("scenario", path(&self.dir().join("scenario.json")));
        values.insert("scenario_id", vec![scenario.id.clone()]);
        values
    }

    /// `HOST:PORT=ADDR:PORT`, sorted: the fixture's own entries, and for every other host of
    /// the scenario's URLs its `https` port to the TLS front (which answers any name under
    /// its CA) and its `http` port to the mock, so no scenario host is ever looked up.
    fn connect_to(&self, scenario: &Scenario) -> Vec<String> {
        let mut map = self.fixture.connect_to();
        let plain = self.fixture.mock().address().to_string();
        for request in &scenario.requests {
            let Ok(url) = reqwest::Url::parse(&self.expander.text(&request.url)) else {
                continue;
            };
            let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
                continue;
            };
            let to = match url.scheme() {
                "https" => self.fixture.addr().to_string(),
                _ => plain.clone(),
            };
            map.entry(format!("{host}:{port}")).or_insert(to);
        }
        let mut entries: Vec<String> = map
            .into_iter()
            .map(|(from, to)| format!("{from}={to}"))
            .collect();
        entries.sort();
        entries
    }

    /// The scenario's options as `agentlog proxy` flags (only those it sets).
    fn scenario_flags(&self, scenario: &Scenario) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(profile) = scenario.profile {
            words.extend(["--profile".to_owned(), profile.name().to_owned()]);
        }
        words.extend(flags("--llm-host", &scenario.llm_hosts));
        words.extend(flags("--allow-host", &scenario.allow_hosts));
        let routes: Vec<String> = scenario
            .routes
            .iter()
            .map(|r| self.expander.text(r))
            .collect();
        words.extend(flags("--route", &routes));
        if let Some(limit) = scenario.budget_usd {
            words.extend(["--budget-usd".to_owned(), limit.to_string()]);
        }
        words
    }

    /// What the scenario expects, `${...}` expanded.
    fn expected(&self, scenario: &Scenario) -> Expected {
        Expected {
            responses: scenario
                .requests
                .iter()
                .map(|r| (r.expect_status, r.expect_body.clone()))
                .collect(),
            upstream: self.forwards(scenario, &scenario.expect_upstream),
            route_target: self.forwards(scenario, &scenario.expect_route_target),
            events_after: scenario.events_after(),
            events: scenario
                .expect_events
                .iter()
                .map(|e| self.expander.value(e))
                .collect(),
            profile: scenario.schema_profile(),
        }
    }
}

impl Stage {
    /// What an upstream must receive of each of `expected`: the client's request as sent,
    /// the scenario's header values (`${NAME}` expanded) in place of the client's.
    fn forwards(&self, scenario: &Scenario, expected: &[ExpectedRequest]) -> Vec<Forward> {
        expected
            .iter()
            .map(|exp| {
                let sent = scenario
                    .requests
                    .get(exp.request)
                    .map(|r| client::Sent::new(r, &self.expander));
                let (mut headers, body) = sent.map(|s| (s.headers, s.body)).unwrap_or_default();
                for (name, value) in &exp.headers {
                    let name = name.to_ascii_lowercase();
                    headers.retain(|(n, _)| *n != name);
                    headers.push((name, self.expander.text(value)));
                }
                Forward {
                    request: exp.request,
                    path: exp.path.clone(),
                    query: exp.query.clone(),
                    headers,
                    body,
                }
            })
            .collect()
    }
}

/// `flag value` for each value.
fn flags(flag: &str, values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| [flag.to_owned(), v.clone()])
        .collect()
}

/// `--secret NAME=VALUE@HOSTS --placeholder NAME=PLACEHOLDER` per secret.
fn secret_flags(scenario: &Scenario) -> Vec<String> {
    let mut words = Vec::new();
    for secret in &scenario.secrets {
        words.extend(["--secret".to_owned(), secret.spec()]);
        if let Some(placeholder) = scenario.placeholders.get(&secret.name) {
            words.extend([
                "--placeholder".to_owned(),
                format!("{}={placeholder}", secret.name),
            ]);
        }
    }
    words
}

/// Every host the leaf must cover: the fixture's and any other in the scenario's URLs.
fn hosts(scenario: &Scenario, expander: &Expander) -> Vec<String> {
    let mut hosts: Vec<String> = FIXTURE_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    for request in &scenario.requests {
        if let Ok(url) = reqwest::Url::parse(&expander.text(&request.url))
            && let Some(host) = url.host_str()
        {
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}
