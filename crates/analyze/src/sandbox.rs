//! Figures of sandbox event logs (v0 and v1).
//!
//! - **Requests, tokens and cost by model and host**: a request is an `llm_request` or
//!   `http_request` event, counted under its `data.model` (v0 names it; v1 requests do not, so
//!   they count under `(none)`) and `data.host`. A response is an `llm_response` or
//!   `http_response`: its `input_tokens`, `output_tokens`, `cached_input_tokens` and `cost_usd`
//!   (agentlog's usage extension) are summed under its own `model` and `host`. Costs are summed
//!   exactly in whole nano-dollars (each `cost_usd` rounded to 1e-9 USD), so totals do not
//!   depend on the order of the events.
//! - **Injections by secret name**: `key_injection` events per `secret_name`, `host` and
//!   `action` (`injected`, `skipped`, `leak_blocked`); v1's `request_transform` events, which
//!   count secrets without naming them (`reason: "2 secret(s) injected for ..."`), per
//!   `plugin`, `host` and `action`, with the secrets they count.
//! - **Leaks and gates blocked**: `key_injection` with `action: leak_blocked`; `gate_decision`
//!   with `allowed: false`, per `plugin`, `host` and `reason`.
//! - **Error rates**: per host, responses with `status_code >= 400`, and responses whose usage
//!   is `unknown` (or `partial`), over all responses.
//! - **Latency**: `duration_ms` of responses, p50/p95 by nearest rank, overall, per host and per
//!   model.

use std::collections::BTreeMap;

use agentlog_core::event::EventType;
use hashbrown::HashMap;
use serde::Serialize;

use crate::ledger::{max_opt, min_opt, slot};
use crate::order::Ordered;
use crate::percentile::{Histogram, Percentiles};
use crate::record::{Data, Raw, Str};
use crate::time_text;
use crate::timeline::{Timeline, TimelineReport};

/// What a missing model, host, secret name or plugin is shown as.
pub const NONE: &str = "(none)";

/// Nano-dollars per dollar.
const NANOS: f64 = 1e9;

/// Sandbox figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SandboxReport {
    /// Events (records of the sandbox family).
    pub events: u64,
    /// Events per `event_type`.
    pub by_event_type: BTreeMap<String, u64>,
    /// Earliest `ts`, RFC 3339 UTC (to the second).
    pub first_ts: Option<String>,
    /// Latest `ts`, RFC 3339 UTC (to the second).
    pub last_ts: Option<String>,
    /// Events without a readable `ts` (left out of the timeline).
    pub untimed_events: u64,
    /// Totals over the whole log.
    pub totals: Totals,
    /// Requests, tokens and cost per model and host, costliest first.
    pub by_model_host: Vec<ModelHostRow>,
    /// `key_injection` events per secret name and host.
    pub injections: Vec<InjectionRow>,
    /// `request_transform` events per plugin, host and action.
    pub transforms: Vec<TransformRow>,
    /// Blocked leaks (`key_injection` `leak_blocked`) per secret name and host.
    pub leaks_blocked: Vec<LeakRow>,
    /// `gate_decision` events per plugin and host, most blocked first.
    pub gates: Vec<GateRow>,
    /// `budget_action` events per `action`.
    pub budget_actions: BTreeMap<String, u64>,
    /// Error rates per host, highest first.
    pub errors: Vec<HostErrorRow>,
    /// Latency of all responses.
    pub latency: Option<Percentiles>,
    /// Latency per host, slowest p95 first.
    pub latency_by_host: Vec<LatencyRow>,
    /// Latency per model, slowest p95 first.
    pub latency_by_model: Vec<LatencyRow>,
    /// Counts over time: groups `requests` (per host), `tokens` (`input`, `output`), `cost`
    /// (`nano_usd`: whole nano-dollars), `responses` (`errors`: status >= 400,
    /// `usage_unknown`, `all`), `blocked` (`leaks`, `gates`), `injections` (`injected`).
    pub timeline: TimelineReport,
}

/// Totals of a sandbox log.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Request events.
    pub requests: u64,
    /// Response events.
    pub responses: u64,
    /// Sum of `input_tokens`.
    pub input_tokens: u64,
    /// Sum of `output_tokens`.
    pub output_tokens: u64,
    /// Sum of `cached_input_tokens`.
    pub cached_input_tokens: u64,
    /// Sum of `cost_usd` (exact to 1e-9 USD).
    pub cost_usd: f64,
    /// Responses that carried `cost_usd`.
    pub priced_responses: u64,
    /// Responses with `status_code >= 400`.
    pub error_responses: u64,
    /// Responses with `usage: unknown`.
    pub usage_unknown: u64,
    /// Responses with `usage: partial`.
    pub usage_partial: u64,
    /// `key_injection` events with `action: injected`.
    pub injected: u64,
    /// `key_injection` events with `action: leak_blocked`.
    pub leaks_blocked: u64,
    /// `gate_decision` events with `allowed: false`.
    pub gates_blocked: u64,
}

/// Requests, tokens and cost of one model at one host.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelHostRow {
    /// The model (`(none)` when the event names none).
    pub model: String,
    /// The host.
    pub host: String,
    /// Request events.
    pub requests: u64,
    /// Response events.
    pub responses: u64,
    /// Sum of `input_tokens`.
    pub input_tokens: u64,
    /// Sum of `output_tokens`.
    pub output_tokens: u64,
    /// Sum of `cached_input_tokens`.
    pub cached_input_tokens: u64,
    /// Sum of `cost_usd`.
    pub cost_usd: f64,
    /// Responses per `cost_source` (`provider`, `price_table`, `reservation`).
    pub cost_by_source: BTreeMap<String, u64>,
    /// Responses with `usage: unknown`.
    pub usage_unknown: u64,
    /// Responses with `usage: partial`.
    pub usage_partial: u64,
}

/// `key_injection` events of one secret at one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InjectionRow {
    /// The secret's name.
    pub secret_name: String,
    /// The host.
    pub host: String,
    /// Events per `action`.
    pub by_action: BTreeMap<String, u64>,
}

/// `request_transform` events of one plugin, host and action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransformRow {
    /// The plugin.
    pub plugin: String,
    /// The host.
    pub host: String,
    /// The action.
    pub action: String,
    /// Events.
    pub events: u64,
    /// Secrets counted in `reason` (`N secret(s) ...`), summed.
    pub secrets: u64,
}

/// Blocked leaks of one secret to one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeakRow {
    /// The secret's name.
    pub secret_name: String,
    /// The host it was about to be sent to.
    pub host: String,
    /// Blocked attempts.
    pub count: u64,
}

/// Gate decisions of one plugin about one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateRow {
    /// The gate plugin.
    pub plugin: String,
    /// The host.
    pub host: String,
    /// Allowed.
    pub allowed: u64,
    /// Blocked.
    pub blocked: u64,
    /// Blocked decisions per `reason`.
    pub reasons: BTreeMap<String, u64>,
}

/// Error rates of one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostErrorRow {
    /// The host.
    pub host: String,
    /// Responses.
    pub responses: u64,
    /// Responses with `status_code >= 400`.
    pub errors: u64,
    /// `errors / responses`.
    pub error_rate: f64,
    /// Error responses per status code.
    pub by_status: BTreeMap<String, u64>,
    /// Responses with `usage: unknown`.
    pub usage_unknown: u64,
    /// `usage_unknown / responses`.
    pub usage_unknown_rate: f64,
    /// Responses with `usage: partial`.
    pub usage_partial: u64,
}

/// Latency of one host or model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyRow {
    /// The host or model.
    pub name: String,
    /// Percentiles of `duration_ms`.
    pub latency: Percentiles,
}

#[derive(Debug, Default)]
struct MhAgg {
    requests: u64,
    responses: u64,
    input: u64,
    output: u64,
    cached: u64,
    cost_nanos: u64,
    sources: HashMap<String, u64>,
    unknown: u64,
    partial: u64,
}

#[derive(Debug, Default)]
struct HostAgg {
    responses: u64,
    errors: u64,
    by_status: HashMap<u64, u64>,
    unknown: u64,
    partial: u64,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct GateAgg {
    allowed: u64,
    blocked: u64,
    reasons: HashMap<String, u64>,
}

type Nested<V> = HashMap<String, HashMap<String, V>>;

/// Sandbox figures being gathered.
#[derive(Debug)]
pub(crate) struct SandboxAgg {
    events: u64,
    types: HashMap<String, u64>,
    first: Option<i64>,
    last: Option<i64>,
    untimed: u64,
    totals: Totals,
    cost_nanos: u64,
    model_host: Nested<MhAgg>,
    hosts: HashMap<String, HostAgg>,
    models: HashMap<String, Histogram>,
    injections: Nested<HashMap<String, u64>>,
    transforms: Nested<HashMap<String, (u64, u64)>>,
    gates: Nested<GateAgg>,
    budget: HashMap<String, u64>,
    pub(crate) timeline: Timeline,
}

fn name<'s>(s: Option<&'s Str<'_>>) -> &'s str {
    s.map_or(NONE, Str::as_str)
}

/// `cost_usd` in whole nano-dollars; `None` for a negative or non-finite value.
fn nanos(cost: f64) -> Option<u64> {
    (cost.is_finite() && (0.0..1.8e10).contains(&cost)).then(|| (cost * NANOS).round() as u64)
}

/// The `N` of a `reason` that starts `N secret(s) `.
fn secrets_in(reason: &str) -> u64 {
    reason
        .split_once(" secret(s) ")
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

impl SandboxAgg {
    pub(crate) fn new(bucket: Option<u64>) -> Self {
        SandboxAgg {
            events: 0,
            types: HashMap::new(),
            first: None,
            last: None,
            untimed: 0,
            totals: Totals::default(),
            cost_nanos: 0,
            model_host: HashMap::new(),
            hosts: HashMap::new(),
            models: HashMap::new(),
            injections: HashMap::new(),
            transforms: HashMap::new(),
            gates: HashMap::new(),
            budget: HashMap::new(),
            timeline: Timeline::new(bucket),
        }
    }

    /// Adds one sandbox event.
    pub(crate) fn add(&mut self, raw: &Raw<'_>) {
        self.events += 1;
        let event_type = name(raw.event_type.as_ref());
        *slot(&mut self.types, event_type) += 1;
        let ts = raw.unix_seconds();
        match ts {
            Some(t) => {
                self.first = min_opt(self.first, Some(t));
                self.last = max_opt(self.last, Some(t));
            }
            None => self.untimed += 1,
        }
        let empty = Data::default();
        let data = raw.data.as_ref().unwrap_or(&empty);
        match EventType::known(event_type) {
            Some(EventType::LlmRequest | EventType::HttpRequest) => self.request(data, ts),
            Some(EventType::LlmResponse | EventType::HttpResponse) => self.response(data, ts),
            Some(EventType::KeyInjection) => self.injection(data, ts),
            Some(EventType::RequestTransform) => self.transform(raw, data),
            Some(EventType::GateDecision) => self.gate(raw, data, ts),
            Some(EventType::BudgetAction) => {
                *slot(&mut self.budget, name(data.action.as_ref())) += 1;
            }
            _ => {}
        }
    }

    fn tick(&mut self, ts: Option<i64>, group: &str, key: &str, n: u64) {
        if let Some(t) = ts {
            let id = self.timeline.series(group, key);
            self.timeline.add(t, id, n);
        }
    }

    fn request(&mut self, data: &Data<'_>, ts: Option<i64>) {
        let (model, host) = (name(data.model.as_ref()), name(data.host.as_ref()));
        self.totals.requests += 1;
        slot(slot(&mut self.model_host, model), host).requests += 1;
        self.tick(ts, "requests", host, 1);
    }

    fn response(&mut self, data: &Data<'_>, ts: Option<i64>) {
        let (model, host) = (name(data.model.as_ref()), name(data.host.as_ref()));
        let (input, output) = (
            data.input_tokens.unwrap_or(0),
            data.output_tokens.unwrap_or(0),
        );
        let cached = data.cached_input_tokens.unwrap_or(0);
        let cost = data.cost_usd.map(|c| c.value).and_then(nanos);
        let usage = data.usage.as_ref().map(Str::as_str);
        let t = &mut self.totals;
        t.responses += 1;
        t.input_tokens = t.input_tokens.saturating_add(input);
        t.output_tokens = t.output_tokens.saturating_add(output);
        t.cached_input_tokens = t.cached_input_tokens.saturating_add(cached);
        let mh = slot(slot(&mut self.model_host, model), host);
        mh.responses += 1;
        mh.input = mh.input.saturating_add(input);
        mh.output = mh.output.saturating_add(output);
        mh.cached = mh.cached.saturating_add(cached);
        if let Some(c) = cost {
            t.priced_responses += 1;
            self.cost_nanos = self.cost_nanos.saturating_add(c);
            mh.cost_nanos = mh.cost_nanos.saturating_add(c);
            *slot(&mut mh.sources, name(data.cost_source.as_ref())) += 1;
        }
        let host_agg = slot(&mut self.hosts, host);
        host_agg.responses += 1;
        let status = data.status_code.unwrap_or(0);
        let error = status >= 400;
        if error {
            t.error_responses += 1;
            host_agg.errors += 1;
            *host_agg.by_status.entry(status).or_default() += 1;
        }
        match usage {
            Some("unknown") => {
                t.usage_unknown += 1;
                mh.unknown += 1;
                host_agg.unknown += 1;
            }
            Some("partial") => {
                t.usage_partial += 1;
                mh.partial += 1;
                host_agg.partial += 1;
            }
            _ => {}
        }
        if let Some(ms) = data.duration_ms {
            host_agg.latency.add(ms);
            slot(&mut self.models, model).add(ms);
        }
        self.tick(ts, "responses", "all", 1);
        self.tick(ts, "responses", "errors", u64::from(error));
        self.tick(
            ts,
            "responses",
            "usage_unknown",
            u64::from(usage == Some("unknown")),
        );
        self.tick(ts, "tokens", "input", input);
        self.tick(ts, "tokens", "output", output);
        self.tick(ts, "cost", "nano_usd", cost.unwrap_or(0));
    }

    fn injection(&mut self, data: &Data<'_>, ts: Option<i64>) {
        let secret = name(data.secret_name.as_ref());
        let host = name(data.host.as_ref());
        let action = name(data.action.as_ref());
        *slot(slot(slot(&mut self.injections, secret), host), action) += 1;
        match action {
            "injected" => {
                self.totals.injected += 1;
                self.tick(ts, "injections", "injected", 1);
            }
            "leak_blocked" => {
                self.totals.leaks_blocked += 1;
                self.tick(ts, "blocked", "leaks", 1);
            }
            _ => {}
        }
    }

    fn transform(&mut self, raw: &Raw<'_>, data: &Data<'_>) {
        let plugin = name(raw.plugin.as_ref());
        let host = name(data.host.as_ref());
        let action = name(data.action.as_ref());
        let secrets = data.reason.as_ref().map_or(0, |r| secrets_in(r.as_str()));
        let agg = slot(slot(slot(&mut self.transforms, plugin), host), action);
        agg.0 += 1;
        agg.1 = agg.1.saturating_add(secrets);
    }

    fn gate(&mut self, raw: &Raw<'_>, data: &Data<'_>, ts: Option<i64>) {
        let plugin = name(raw.plugin.as_ref());
        let host = name(data.host.as_ref());
        let agg = slot(slot(&mut self.gates, plugin), host);
        if data.allowed == Some(false) {
            agg.blocked += 1;
            *slot(&mut agg.reasons, name(data.reason.as_ref())) += 1;
            self.totals.gates_blocked += 1;
            self.tick(ts, "blocked", "gates", 1);
        } else {
            agg.allowed += 1;
        }
    }
}

fn add_counts(into: &mut HashMap<String, u64>, from: &HashMap<String, u64>) {
    for (k, n) in from {
        *slot(into, k) += n;
    }
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.responses += o.responses;
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cached_input_tokens = self
            .cached_input_tokens
            .saturating_add(o.cached_input_tokens);
        self.priced_responses += o.priced_responses;
        self.error_responses += o.error_responses;
        self.usage_unknown += o.usage_unknown;
        self.usage_partial += o.usage_partial;
        self.injected += o.injected;
        self.leaks_blocked += o.leaks_blocked;
        self.gates_blocked += o.gates_blocked;
    }
}

impl SandboxAgg {
    /// Adds everything `other` gathered.
    pub(crate) fn merge(&mut self, other: &SandboxAgg) {
        self.events += other.events;
        add_counts(&mut self.types, &other.types);
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        self.untimed += other.untimed;
        self.totals.add(&other.totals);
        self.cost_nanos = self.cost_nanos.saturating_add(other.cost_nanos);
        for (model, hosts) in &other.model_host {
            for (host, a) in hosts {
                let m = slot(slot(&mut self.model_host, model), host);
                m.requests += a.requests;
                m.responses += a.responses;
                m.input = m.input.saturating_add(a.input);
                m.output = m.output.saturating_add(a.output);
                m.cached = m.cached.saturating_add(a.cached);
                m.cost_nanos = m.cost_nanos.saturating_add(a.cost_nanos);
                add_counts(&mut m.sources, &a.sources);
                m.unknown += a.unknown;
                m.partial += a.partial;
            }
        }
        for (host, a) in &other.hosts {
            let h = slot(&mut self.hosts, host);
            h.responses += a.responses;
            h.errors += a.errors;
            for (status, n) in &a.by_status {
                *h.by_status.entry(*status).or_default() += n;
            }
            h.unknown += a.unknown;
            h.partial += a.partial;
            h.latency.merge(&a.latency);
        }
        for (model, hist) in &other.models {
            slot(&mut self.models, model).merge(hist);
        }
        self.merge_events(other);
        add_counts(&mut self.budget, &other.budget);
        self.timeline.merge(&other.timeline);
    }

    fn merge_events(&mut self, other: &SandboxAgg) {
        for (secret, hosts) in &other.injections {
            for (host, actions) in hosts {
                add_counts(slot(slot(&mut self.injections, secret), host), actions);
            }
        }
        for (plugin, hosts) in &other.transforms {
            for (host, actions) in hosts {
                for (action, (events, secrets)) in actions {
                    let t = slot(slot(slot(&mut self.transforms, plugin), host), action);
                    t.0 += events;
                    t.1 = t.1.saturating_add(*secrets);
                }
            }
        }
        for (plugin, hosts) in &other.gates {
            for (host, a) in hosts {
                let g = slot(slot(&mut self.gates, plugin), host);
                g.allowed += a.allowed;
                g.blocked += a.blocked;
                add_counts(&mut g.reasons, &a.reasons);
            }
        }
    }

    /// The figures.
    pub(crate) fn report(&self) -> SandboxReport {
        let mut totals = self.totals.clone();
        totals.cost_usd = self.cost_nanos as f64 / NANOS;
        let mut all = Histogram::default();
        self.hosts.values().for_each(|h| all.merge(&h.latency));
        SandboxReport {
            events: self.events,
            by_event_type: self.types.clone().into_iter().collect(),
            first_ts: self.first.map(time_text),
            last_ts: self.last.map(time_text),
            untimed_events: self.untimed,
            totals,
            by_model_host: self.model_host_rows(),
            injections: self.injection_rows(),
            transforms: self.transform_rows(),
            leaks_blocked: self.leak_rows(),
            gates: self.gate_rows(),
            budget_actions: self.budget.clone().into_iter().collect(),
            errors: self.error_rows(),
            latency: all.percentiles(),
            latency_by_host: latency_rows(self.hosts.iter().map(|(h, a)| (h, &a.latency))),
            latency_by_model: latency_rows(self.models.iter()),
            timeline: self.timeline.report(),
        }
    }

    fn model_host_rows(&self) -> Vec<ModelHostRow> {
        let mut rows: Vec<(u64, ModelHostRow)> = Vec::new();
        for (model, hosts) in &self.model_host {
            for (host, a) in hosts {
                let row = ModelHostRow {
                    model: model.clone(),
                    host: host.clone(),
                    requests: a.requests,
                    responses: a.responses,
                    input_tokens: a.input,
                    output_tokens: a.output,
                    cached_input_tokens: a.cached,
                    cost_usd: a.cost_nanos as f64 / NANOS,
                    cost_by_source: a.sources.clone().into_iter().collect(),
                    usage_unknown: a.unknown,
                    usage_partial: a.partial,
                };
                rows.push((a.cost_nanos, row));
            }
        }
        rows.sort_by(|(ca, a), (cb, b)| cb.cmp(ca).then_with(|| a.order(b)));
        rows.into_iter().map(|(_, r)| r).collect()
    }

    fn injection_rows(&self) -> Vec<InjectionRow> {
        let mut rows: Vec<InjectionRow> = Vec::new();
        for (secret, hosts) in &self.injections {
            for (host, actions) in hosts {
                rows.push(InjectionRow {
                    secret_name: secret.clone(),
                    host: host.clone(),
                    by_action: actions.clone().into_iter().collect(),
                });
            }
        }
        rows.sort_by(Ordered::order);
        rows
    }

    fn transform_rows(&self) -> Vec<TransformRow> {
        let mut rows: Vec<TransformRow> = Vec::new();
        for (plugin, hosts) in &self.transforms {
            for (host, actions) in hosts {
                for (action, (events, secrets)) in actions {
                    rows.push(TransformRow {
                        plugin: plugin.clone(),
                        host: host.clone(),
                        action: action.clone(),
                        events: *events,
                        secrets: *secrets,
                    });
                }
            }
        }
        rows.sort_by(Ordered::order);
        rows
    }

    fn leak_rows(&self) -> Vec<LeakRow> {
        let mut rows: Vec<LeakRow> = self
            .injection_rows()
            .into_iter()
            .filter_map(|r| {
                let count = r.by_action.get("leak_blocked").copied()?;
                Some(LeakRow {
                    secret_name: r.secret_name,
                    host: r.host,
                    count,
                })
            })
            .collect();
        rows.sort_by(Ordered::order);
        rows
    }

    fn gate_rows(&self) -> Vec<GateRow> {
        let mut rows: Vec<GateRow> = Vec::new();
        for (plugin, hosts) in &self.gates {
            for (host, a) in hosts {
                rows.push(GateRow {
                    plugin: plugin.clone(),
                    host: host.clone(),
                    allowed: a.allowed,
                    blocked: a.blocked,
                    reasons: a.reasons.clone().into_iter().collect(),
                });
            }
        }
        rows.sort_by(Ordered::order);
        rows
    }

    fn error_rows(&self) -> Vec<HostErrorRow> {
        let mut rows: Vec<HostErrorRow> = self
            .hosts
            .iter()
            .map(|(host, a)| HostErrorRow {
                host: host.clone(),
                responses: a.responses,
                errors: a.errors,
                error_rate: ratio(a.errors, a.responses),
                by_status: a
                    .by_status
                    .iter()
                    .map(|(s, n)| (s.to_string(), *n))
                    .collect(),
                usage_unknown: a.unknown,
                usage_unknown_rate: ratio(a.unknown, a.responses),
                usage_partial: a.partial,
            })
            .collect();
        rows.sort_by(Ordered::order);
        rows
    }
}

/// `part / whole` rounded to 4 decimals; 0 when `whole` is 0.
pub(crate) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

fn latency_rows<'a>(items: impl Iterator<Item = (&'a String, &'a Histogram)>) -> Vec<LatencyRow> {
    let mut rows: Vec<LatencyRow> = items
        .filter_map(|(name, h)| {
            Some(LatencyRow {
                name: name.clone(),
                latency: h.percentiles()?,
            })
        })
        .collect();
    rows.sort_by(Ordered::order);
    rows
}
