//! The events of one exchange, written the way the chosen [`Profile`] defines them: v0 or
//! v1, the event-log profiles ([`Proxy::new`](super::Proxy::new) refuses any other), so the
//! code below asks whether the profile is v1 and writes v0's events otherwise.
//!
//! | what happened | v0 (the seed) | v1 (the reference's Go writer) |
//! |---|---|---|
//! | host gate decided | (no gate) | `gate_decision`, plugin `host_filter` |
//! | route decided | (no routes) | `route_decision`, plugin `local_model_router` |
//! | secrets injected or skipped | `key_injection` per secret | one `request_transform`, plugin `secret_injector`, reason `N secret(s) injected for H` |
//! | placeholder leak refused | `key_injection` `leak_blocked` per secret | one `request_transform` `leak_blocked` naming the secrets |
//! | request forwarded | `llm_request`, LLM hosts only | `http_request`, every request |
//! | usage read from the response | tokens on `llm_response` | `response_transform` `logged_usage`, plugin `usage_logger` |
//! | response relayed | `llm_response`, LLM hosts only | `http_response`, every request |
//!
//! Request and response events carry the tag `tls` or `http` (and `incomplete`, `cut_short`
//! for exchanges that did not end normally); decision and transform events carry none, as
//! in the reference.
//!
//! Every event written here belongs to one exchange, and every writer takes its id: each
//! event carries it as `data.exchange_id` (the budget's `warn` belongs to the exchange whose
//! charge crossed the warning line, its `blocked` to the request refused).

use agentlog_core::emitter::Record;
use agentlog_core::event::{
    BudgetAction, COST_FROM_PRICES, COST_FROM_PROVIDER, COST_FROM_RESERVATION, GateDecision,
    HttpRequest, HttpResponse, InjectionAction, KeyInjection, LlmRequest, LlmResponse,
    RequestTransform, ResponseTransform, RouteDecision, USAGE_PARTIAL, USAGE_UNKNOWN,
};

use super::super::budget::{Held, Standing, worst_case};
use super::super::prices::{PriceTable, ServiceTier, Tokens};
use super::super::usage::Usage;
use super::forward::RequestBody;
use super::observe::{End, Observed, Reach};
use super::{LogUnavailable, Profile, State};

/// The action of a v1 `request_transform` for a refused leak.
const LEAK_BLOCKED: &str = "leak_blocked";

impl State {
    /// Writes `record` as an event of the exchange `exchange` (see [`State::emit`]).
    fn emit_in(&self, exchange: &str, record: Record) -> Result<(), LogUnavailable> {
        self.emit(record.exchange(exchange))
    }

    /// Writes every record, in order, as events of the exchange `exchange`; the first failure
    /// under `block` is returned after all were tried (each failure is reported by
    /// [`State::emit`]).
    fn emit_all(
        &self,
        exchange: &str,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<(), LogUnavailable> {
        let mut result = Ok(());
        for record in records {
            if self.emit_in(exchange, record).is_err() {
                result = Err(LogUnavailable);
            }
        }
        result
    }

    /// A gate decision (v1 only: v0 has no gate).
    pub(super) fn write_gate(
        &self,
        decision: GateDecision,
        exchange: &str,
    ) -> Result<(), LogUnavailable> {
        self.emit_in(exchange, Record::new(decision))
    }

    /// A route decision (v1 only: v0 has no routes).
    pub(super) fn write_route(
        &self,
        decision: RouteDecision,
        exchange: &str,
    ) -> Result<(), LogUnavailable> {
        self.emit_in(exchange, Record::new(decision))
    }

    /// The injector's outcome for a forwarded request bound for `host`.
    pub(super) fn write_injections(
        &self,
        events: Vec<KeyInjection>,
        host: &str,
        (tag, exchange): (&'static str, &str),
    ) -> Result<(), LogUnavailable> {
        match self.profile {
            Profile::V1 if events.is_empty() => Ok(()),
            Profile::V1 => self.emit_in(exchange, Record::new(transform_of(&events, host))),
            _ => self.emit_all(
                exchange,
                events.into_iter().map(|e| injection_record(e, tag)),
            ),
        }
    }

    /// The leaks (`leak_blocked` events, each naming the host) of a refused request, events
    /// of the exchange `exchange`. Refused whatever the log says: a failure is reported and
    /// counted by [`State::emit`].
    pub(super) fn write_leaks(&self, leaks: Vec<KeyInjection>, tag: &'static str, exchange: &str) {
        let Some(host) = leaks.first().map(|l| l.host.clone()) else {
            return;
        };
        let _ = match self.profile {
            Profile::V1 => {
                let names: Vec<&str> = leaks.iter().map(|l| l.secret_name.as_str()).collect();
                let transform = RequestTransform {
                    host: host.to_owned(),
                    action: LEAK_BLOCKED.to_owned(),
                    reason: format!("placeholder of {} not allowed for {host}", names.join(", ")),
                    ..Default::default()
                };
                self.emit_in(exchange, Record::new(transform))
            }
            _ => self.emit_all(
                exchange,
                leaks.into_iter().map(|e| injection_record(e, tag)),
            ),
        };
    }

    /// Whether a request to this host gets request and response events.
    pub(super) fn records_exchange(&self, llm: bool) -> bool {
        llm || self.profile == Profile::V1
    }

    /// `llm_request` (v0) or `http_request` (v1), with the exchange id it carries.
    pub(super) fn write_request(
        &self,
        request: HttpRequest,
        tag: &'static str,
    ) -> Result<(), LogUnavailable> {
        let exchange = request.exchange_id.clone();
        let record = match self.profile {
            Profile::V1 => Record::new(request),
            _ => Record::new(LlmRequest::from(request)),
        };
        self.emit_in(&exchange, record.tag(tag))
    }

    /// `llm_response` with its tokens (v0), or `response_transform` `logged_usage` when
    /// usage was read and then `http_response` (v1); then the budget's `warn` when this
    /// exchange's charge crossed the warning line; all with the exchange id `response`
    /// carries. `observed` is `None` for an exchange whose usage is not read (not an LLM
    /// host); `reach` is how far the request got, which decides what `reservation` is charged
    /// when the upstream never answered.
    pub(super) fn write_response(
        &self,
        mut response: LlmResponse,
        observed: Option<Observed>,
        reservation: Option<Held>,
        reach: Reach,
        tag: &'static str,
        end: End,
    ) -> Result<(), LogUnavailable> {
        let exchange = response.exchange_id.clone();
        let mut logged_usage = None;
        // The tier the request asked for, put there when it was forwarded.
        let requested = ServiceTier::from_stated(&response.service_tier);
        let mut priced_at = requested;
        if let Some(observed) = observed {
            if self.profile == Profile::V1 {
                logged_usage = usage_transform(&response.host, &observed.usage);
            }
            priced_at = account(&mut response, observed, &self.prices, requested);
        }
        let warning = self.settle(&mut response, reservation, reach);
        response.service_tier = match response.cost_source.as_str() {
            COST_FROM_PRICES => priced_at.name().to_owned(),
            COST_FROM_RESERVATION => requested.name().to_owned(),
            _ => String::new(),
        };
        let mut record = match self.profile {
            Profile::V1 => Record::new(HttpResponse::from(response)),
            _ => Record::new(response),
        }
        .tag(tag);
        if end != End::Complete {
            record = record.tag("incomplete");
        }
        if end == End::CutShort {
            record = record.tag("cut_short");
        }
        let records = logged_usage.map(Record::new).into_iter().chain([record]);
        self.emit_all(&exchange, records.chain(warning))
    }

    /// The reservation for a request to an LLM host (`Ok(None)` without a budget, for a
    /// request that is not `billable`, or for a body that was not read whole: one to another
    /// host); `Err` with the standing when it could take spend past the limit. A billable
    /// request whose model is unknown (none named, a body that is not JSON or is compressed)
    /// is reserved at the dearest entry's worst case: the gate fails closed. Dropped
    /// unsettled, the reservation is released.
    pub(super) fn reserve(
        &self,
        body: &RequestBody,
        billable: bool,
    ) -> Result<Option<Held>, Standing> {
        let (Some(budget), Some(facts), true) = (&self.budget, body.facts(), billable) else {
            return Ok(None);
        };
        budget.hold(worst_case(facts, &self.prices)).map(Some)
    }

    /// Gives back a reservation whose request was not forwarded (what dropping it does; said
    /// out loud where a request stops before the upstream).
    pub(super) fn release(&self, reservation: Option<Held>) {
        drop(reservation);
    }

    /// The events of a request refused by the budget: in v1 a `gate_decision` of the
    /// `budget_gate`, then (both profiles) `budget_action` `blocked`, events of the exchange
    /// `exchange`. Refused whatever the log says: a failure is reported and counted by
    /// [`State::emit`].
    pub(super) fn write_budget_refusal(&self, host: &str, standing: Standing, exchange: &str) {
        if self.profile == Profile::V1 {
            let gate = GateDecision {
                host: host.to_owned(),
                allowed: false,
                reason: format!(
                    "budget exhausted: ${} of ${} spent",
                    standing.spent,
                    standing.spent + standing.remaining
                ),
                ..Default::default()
            };
            let _ = self.emit_in(exchange, Record::new(gate).plugin(BUDGET_GATE));
        }
        let _ = self.emit_in(exchange, budget_record("blocked", standing));
    }

    /// Settles the exchange's reservation with what it is charged (see the `budget`
    /// module); the `warn` record when that crossed the warning line.
    fn settle(
        &self,
        response: &mut LlmResponse,
        reservation: Option<Held>,
        reach: Reach,
    ) -> Option<Record> {
        let reservation = reservation?;
        let charged = charge(response, reservation.amount(), reach);
        let tokens = response
            .input_tokens
            .unwrap_or(0)
            .saturating_add(response.output_tokens.unwrap_or(0));
        let settled = reservation.settle(charged, tokens)?;
        settled
            .crossed_warning
            .then(|| budget_record("warn", settled.standing))
    }
}

/// The plugin of the budget's events.
const BUDGET_GATE: &str = "budget_gate";

fn budget_record(action: &str, standing: Standing) -> Record {
    Record::new(BudgetAction {
        action: action.to_owned(),
        tokens_used: standing.tokens,
        cost_usd: standing.spent,
        remaining: standing.remaining,
        ..Default::default()
    })
    .plugin(BUDGET_GATE)
}

/// What an exchange holding a reservation of `reserved` is charged, its request having got
/// as far as `reach` (the budget module's table); when that is the reservation, the event
/// says so (`cost_source` `reservation`).
fn charge(response: &mut LlmResponse, reserved: f64, reach: Reach) -> f64 {
    // 101: a WebSocket session (OpenAI's Realtime API) the upstream accepted and served.
    let success = (200..300).contains(&response.status_code) || response.status_code == 101;
    let known = response.cost_usd;
    let charged = match (reach, response.usage.as_str(), known) {
        (Reach::NotSent, ..) => return 0.0,
        // Forwarded and never answered: whatever status the proxy gave the client (or 0 for
        // a client that gave up), the provider may have billed it.
        (Reach::Sent, ..) => reserved,
        (Reach::Answered, "", Some(cost)) => cost,
        (Reach::Answered, USAGE_UNKNOWN, _) if !success => return 0.0,
        (Reach::Answered, USAGE_PARTIAL, Some(cost)) if cost >= reserved => cost,
        (Reach::Answered, ..) => reserved,
    };
    if Some(charged) != known {
        response.cost_usd = Some(charged);
        response.cost_source = COST_FROM_RESERVATION.to_owned();
    }
    charged
}

/// Puts what the response reported on its event: the model, the token counts, the cost (the
/// provider's, else computed from `prices` at the service tier the response states, or at
/// `requested` when it states none), and `usage` `unknown` (nothing reported) or `partial`
/// (not final). Returns the tier the cost was computed at.
fn account(
    response: &mut LlmResponse,
    observed: Observed,
    prices: &PriceTable,
    requested: ServiceTier,
) -> ServiceTier {
    let usage = observed.usage;
    let tier = usage.service_tier.unwrap_or(requested);
    response.usage = if !usage.is_known() {
        USAGE_UNKNOWN.to_owned()
    } else if !observed.complete {
        USAGE_PARTIAL.to_owned()
    } else {
        String::new()
    };
    if let Some(cost) = usage.provider_cost_usd {
        response.cost_usd = Some(cost);
        response.cost_source = COST_FROM_PROVIDER.to_owned();
    } else if usage.is_known()
        && let Some(cost) = prices.cost_served(
            &usage.model,
            &tokens_of(&usage),
            tier,
            usage.inference_geo.as_deref(),
        )
    {
        response.cost_usd = Some(round_usd(cost.usd));
        response.cost_source = COST_FROM_PRICES.to_owned();
    }
    response.model = usage.model;
    response.input_tokens = usage.input_tokens;
    response.output_tokens = usage.output_tokens;
    response.cached_input_tokens = usage.cached_input_tokens;
    response.cache_creation_input_tokens = usage.cache_creation_input_tokens;
    response.reasoning_tokens = usage.reasoning_tokens;
    tier
}

/// A computed cost rounded to a trillionth of a dollar, so that float noise
/// (`0.00030000000000000003`) does not reach the log.
fn round_usd(usd: f64) -> f64 {
    let rounded = (usd * 1e12).round() / 1e12;
    if rounded.is_finite() { rounded } else { usd }
}

/// The counts a price table needs.
fn tokens_of(usage: &Usage) -> Tokens {
    Tokens {
        input: usage.input_tokens.unwrap_or(0),
        cached_read: usage.cached_input_tokens.unwrap_or(0),
        cache_creation: usage.cache_creation_input_tokens.unwrap_or(0),
        cache_creation_1h: usage.cache_creation_1h_input_tokens.unwrap_or(0),
        output: usage.output_tokens.unwrap_or(0),
    }
}

/// The record of a v0 `key_injection` event: the injector's plugin and the request's tag.
pub(super) fn injection_record(event: KeyInjection, tag: &'static str) -> Record {
    Record::new(event).plugin("secret_injector").tag(tag)
}

/// The v1 summary of the injector's outcome: `injected` when any secret was, else `skipped`,
/// counted as the reference counts them.
fn transform_of(events: &[KeyInjection], host: &str) -> RequestTransform {
    let injected = events
        .iter()
        .filter(|e| e.action == InjectionAction::Injected)
        .count();
    let (action, n) = if injected > 0 {
        ("injected", injected)
    } else {
        ("skipped", events.len())
    };
    RequestTransform {
        host: host.to_owned(),
        action: action.to_owned(),
        reason: format!("{n} secret(s) {action} for {host}"),
        ..Default::default()
    }
}

/// `logged_usage` when the response reported tokens; `None` when it did not.
fn usage_transform(host: &str, usage: &Usage) -> Option<ResponseTransform> {
    if usage.input_tokens.is_none() && usage.output_tokens.is_none() {
        return None;
    }
    let count = |n: Option<u64>| n.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let model = if usage.model.is_empty() {
        "an unnamed model"
    } else {
        usage.model.as_str()
    };
    Some(ResponseTransform {
        host: host.to_owned(),
        action: "logged_usage".to_owned(),
        reason: format!(
            "recorded {} input and {} output tokens for {model}",
            count(usage.input_tokens),
            count(usage.output_tokens)
        ),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn injection(name: &str, action: InjectionAction) -> KeyInjection {
        KeyInjection::new(name, "h", action)
    }

    #[test]
    fn transform_counts_like_the_reference() {
        let events = [
            injection("A", InjectionAction::Injected),
            injection("B", InjectionAction::Skipped),
        ];
        let t = transform_of(&events, "api.openai.com");
        assert_eq!(t.reason, "1 secret(s) injected for api.openai.com");
        let t = transform_of(&events[1..], "192.168.86.246");
        assert_eq!(
            (t.action.as_str(), t.reason.as_str()),
            ("skipped", "1 secret(s) skipped for 192.168.86.246")
        );
    }

    fn observed(input: Option<u64>, complete: bool) -> Observed {
        Observed {
            usage: Usage {
                model: "gpt-4o-mini".into(),
                input_tokens: input,
                output_tokens: input.map(|_| 10),
                ..Usage::default()
            },
            complete,
        }
    }

    #[test]
    fn account_marks_unknown_and_partial_usage_and_prices_the_rest() {
        let prices = PriceTable::builtin();
        let mut r = LlmResponse::default();
        account(&mut r, observed(None, true), &prices, ServiceTier::Standard);
        assert_eq!(
            (r.usage.as_str(), r.cost_usd, r.input_tokens),
            ("unknown", None, None)
        );
        let mut r = LlmResponse::default();
        account(
            &mut r,
            observed(Some(100), false),
            &prices,
            ServiceTier::Standard,
        );
        assert_eq!(r.usage, "partial");
        let mut r = LlmResponse::default();
        account(
            &mut r,
            observed(Some(100), true),
            &prices,
            ServiceTier::Standard,
        );
        assert_eq!(
            (r.usage.as_str(), r.cost_source.as_str()),
            ("", "price_table")
        );
        assert_eq!(r.cost_usd, Some(round_usd(100.0 * 0.15e-6 + 10.0 * 0.6e-6)));
    }

    #[test]
    fn charge_follows_the_documented_table() {
        let response = |status, usage: &str, cost| LlmResponse {
            status_code: status,
            usage: usage.into(),
            cost_usd: cost,
            cost_source: cost.map_or(String::new(), |_| "price_table".into()),
            ..LlmResponse::default()
        };
        let mut r = response(200, "", Some(0.1));
        assert_eq!(charge(&mut r, 0.5, Reach::Answered), 0.1);
        assert_eq!(r.cost_source, "price_table");
        let mut r = response(200, "unknown", None);
        assert_eq!(charge(&mut r, 0.5, Reach::Answered), 0.5);
        assert_eq!(
            (r.cost_usd, r.cost_source.as_str()),
            (Some(0.5), "reservation")
        );
        let mut r = response(500, "unknown", None);
        assert_eq!(charge(&mut r, 0.5, Reach::Answered), 0.0);
        assert_eq!(r.cost_usd, None);
        let mut r = response(200, "partial", Some(0.7));
        assert_eq!(charge(&mut r, 0.5, Reach::Answered), 0.7);
        let mut r = response(200, "partial", Some(0.2));
        assert_eq!(charge(&mut r, 0.5, Reach::Answered), 0.5);
        assert_eq!(r.cost_source, "reservation");
        let mut r = response(200, "", None);
        assert_eq!(
            charge(&mut r, 0.5, Reach::Answered),
            0.5,
            "a model without a price"
        );
    }

    #[test]
    fn forwarded_means_charged_and_only_what_never_left_is_released() {
        let unanswered = |status| LlmResponse {
            status_code: status,
            usage: USAGE_UNKNOWN.into(),
            ..LlmResponse::default()
        };
        // The client gave up before the head (status 0), the upstream timed out (504) or
        // failed after the request was written (502), shutdown cut it (503).
        for status in [0, 502, 503, 504] {
            let mut r = unanswered(status);
            assert_eq!(charge(&mut r, 0.5, Reach::Sent), 0.5, "status {status}");
            assert_eq!(
                (r.cost_usd, r.cost_source.as_str()),
                (Some(0.5), "reservation")
            );
        }
        let mut r = unanswered(502);
        assert_eq!(charge(&mut r, 0.5, Reach::NotSent), 0.0, "connect failed");
        assert_eq!(r.cost_usd, None);
        let mut r = unanswered(101);
        assert_eq!(
            charge(&mut r, 0.5, Reach::Answered),
            0.5,
            "a Realtime session that ran"
        );
    }

    #[test]
    fn usage_without_tokens_logs_nothing() {
        let mut usage = Usage::default();
        assert!(usage_transform("h", &usage).is_none());
        usage.output_tokens = Some(7);
        let t = usage_transform("h", &usage).unwrap();
        assert_eq!(
            t.reason,
            "recorded unknown input and 7 output tokens for an unnamed model"
        );
    }
}
