//! The budget gate (`--budget-usd`): no request may start that could take spend past the
//! limit.
//!
//! **Reserve, then settle.** Before an LLM request is forwarded, its worst case is reserved:
//! its output limit (the largest of `max_tokens`, `max_output_tokens`, `max_completion_tokens`
//! and `thinking.budget_tokens`; else the model's `max_output_tokens` in the price table; else
//! [`DEFAULT_MAX_OUTPUT_TOKENS`]) times its completions (the larger of `n` and `best_of`) at
//! the model's output price, plus its body size in tokens (a token is at least one byte of
//! text, so this bounds the input) at the input price, at priority prices when it asks for
//! `service_tier: "priority"`; a model without a price costs what the dearest entry of the
//! table would (see `estimate`). The request is refused when `spent + reserved + worst > limit`. When the
//! exchange ends, the reservation is replaced by what it really cost:
//!
//! | the exchange | charged |
//! |---|---|
//! | never left: refused or failed before it was forwarded, or the upstream connect or TLS handshake failed (not a byte of it written) | nothing |
//! | forwarded, but no response head came back: the client gave up or timed out, the upstream failed or timed out after the request was sent, or shutdown cut it | the reservation |
//! | reported usage, price known (or the provider's own cost) | that cost |
//! | a 2xx, or a 101 WebSocket session that ran, with no usage at all (`usage` `unknown`) | the reservation |
//! | ended before its final usage (`usage` `partial`; the client gave up mid-body, say) | the larger of the reservation and the cost of the counts seen |
//! | an error status from the upstream with no usage | nothing (providers do not bill failed requests) |
//!
//! Forwarded means charged: a request may be billed by the provider as soon as it left, so
//! only one that provably never left gives its reservation back (an SDK that retries on a
//! timeout would otherwise get unlimited billed requests for free). The charged amount is the
//! response event's `cost_usd` (`cost_source` `reservation` when the reservation was
//! charged), so the log alone says what was spent, and a restart adds it up again
//! (`restore`).
//!
//! A reservation is held by a [`Held`], which settles it exactly once; one dropped unsettled
//! (an exchange that ended before it was forwarded, on any path) is released, so no early
//! return can keep it reserved until a restart.
//!
//! **Bound on overshoot.** `spent + reserved` never exceeds the limit, so spend can pass the
//! limit only by what requests cost beyond their reservation: a provider-reported cost above
//! the price table's, or input tokens beyond the body's bytes (an image given by URL). With
//! text inputs and known prices the bound is zero, however many requests run at once.
//!
//! **Warnings.** One `budget_action` `warn` when settled spend first reaches
//! `warn_at × limit`; one `budget_action` `blocked` per refused request.

mod estimate;
mod restore;

use std::sync::{Arc, Mutex};

pub use estimate::DEFAULT_MAX_OUTPUT_TOKENS;
pub(crate) use estimate::{RequestFacts, worst_case};

pub use restore::{Restored, SkippedLine, restore_from_log, rotated_siblings};

/// The spend of one proxy run against its limit. Amounts are US dollars.
#[derive(Debug)]
pub struct Budget {
    limit: f64,
    warn_at: f64,
    inner: Mutex<Spend>,
}

#[derive(Debug, Default)]
struct Spend {
    spent: f64,
    reserved: f64,
    tokens: u64,
    warned: bool,
}

/// Where the budget stands (the fields of a `budget_action`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standing {
    /// Settled spend.
    pub spent: f64,
    /// Tokens of the settled exchanges.
    pub tokens: u64,
    /// `limit - spent`, never below zero.
    pub remaining: f64,
}

/// A request's reserved worst case, to be settled exactly once.
#[derive(Debug)]
#[must_use = "a reservation must be settled"]
pub struct Reservation {
    amount: f64,
}

impl Reservation {
    /// The reserved amount.
    pub fn amount(&self) -> f64 {
        self.amount
    }
}

/// A reservation held for an exchange: settled once with what it is charged
/// ([`Held::settle`]), or released (nothing charged) when dropped unsettled.
#[derive(Debug)]
pub(crate) struct Held {
    budget: Arc<Budget>,
    reservation: Option<Reservation>,
}

impl Held {
    /// The reserved amount.
    pub(crate) fn amount(&self) -> f64 {
        self.reservation.as_ref().map_or(0.0, Reservation::amount)
    }

    /// Replaces the reservation by `charged` (see [`Budget::settle`]).
    pub(crate) fn settle(mut self, charged: f64, tokens: u64) -> Option<Settled> {
        let reservation = self.reservation.take()?;
        Some(self.budget.settle(reservation, charged, tokens))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take() {
            self.budget.settle(reservation, 0.0, 0);
        }
    }
}

/// What settling did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settled {
    /// The standing after settling.
    pub standing: Standing,
    /// This settlement took spend across the warning threshold (once per run).
    pub crossed_warning: bool,
}

impl Budget {
    /// A budget of `limit` dollars warning at `warn_at` (a fraction of it), starting from
    /// `restored` spend and tokens (a restart).
    pub fn new(limit: f64, warn_at: f64, restored: (f64, u64)) -> Self {
        let spent = restored.0.max(0.0);
        Budget {
            limit,
            warn_at: warn_at.clamp(0.0, 1.0),
            inner: Mutex::new(Spend {
                spent,
                tokens: restored.1,
                warned: spent >= warn_at * limit,
                ..Spend::default()
            }),
        }
    }

    /// The limit.
    pub fn limit(&self) -> f64 {
        self.limit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spend> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn standing(&self, spend: &Spend) -> Standing {
        Standing {
            spent: spend.spent,
            tokens: spend.tokens,
            remaining: (self.limit - spend.spent).max(0.0),
        }
    }

    /// Reserves `worst` for a request, or refuses it with the standing that says why.
    pub fn reserve(&self, worst: f64) -> Result<Reservation, Standing> {
        let worst = if worst.is_finite() {
            worst.max(0.0)
        } else {
            f64::MAX
        };
        let mut spend = self.lock();
        if spend.spent + spend.reserved + worst > self.limit {
            return Err(self.standing(&spend));
        }
        spend.reserved += worst;
        Ok(Reservation { amount: worst })
    }

    /// [`Budget::reserve`], the reservation held by a [`Held`] (released if dropped
    /// unsettled).
    pub(crate) fn hold(self: &Arc<Self>, worst: f64) -> Result<Held, Standing> {
        let reservation = self.reserve(worst)?;
        Ok(Held {
            budget: self.clone(),
            reservation: Some(reservation),
        })
    }

    /// Replaces `reservation` by what the exchange cost (`charged`, with its `tokens`).
    pub fn settle(&self, reservation: Reservation, charged: f64, tokens: u64) -> Settled {
        let charged = if charged.is_finite() {
            charged.max(0.0)
        } else {
            0.0
        };
        let mut spend = self.lock();
        spend.reserved = (spend.reserved - reservation.amount).max(0.0);
        spend.spent += charged;
        spend.tokens = spend.tokens.saturating_add(tokens);
        let crossed_warning = !spend.warned && spend.spent >= self.warn_at * self.limit;
        spend.warned |= crossed_warning;
        Settled {
            standing: self.standing(&spend),
            crossed_warning,
        }
    }

    /// The standing now.
    pub fn now(&self) -> Standing {
        self.standing(&self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_never_let_spend_pass_the_limit() {
        let budget = Budget::new(1.0, 0.5, (0.0, 0));
        let a = budget.reserve(0.4).unwrap();
        let b = budget.reserve(0.4).unwrap();
        let refused = budget.reserve(0.3).unwrap_err();
        assert_eq!(refused.spent, 0.0);
        let settled = budget.settle(a, 0.1, 100);
        assert!(!settled.crossed_warning);
        assert!(
            budget
                .reserve(0.3)
                .map(|r| budget.settle(r, 0.3, 1))
                .is_ok()
        );
        let settled = budget.settle(b, 0.4, 10);
        assert!(settled.crossed_warning, "0.8 >= 0.5");
        assert!((settled.standing.spent - 0.8).abs() < 1e-12);
        assert!((settled.standing.remaining - 0.2).abs() < 1e-12);
        assert_eq!(settled.standing.tokens, 111);
        let again = budget.settle(budget.reserve(0.0).unwrap(), 0.0, 0);
        assert!(!again.crossed_warning, "warned once");
    }

    #[test]
    fn a_held_reservation_dropped_unsettled_is_released() {
        let budget = Arc::new(Budget::new(1.0, 0.8, (0.0, 0)));
        let held = budget.hold(0.6).unwrap();
        assert_eq!(held.amount(), 0.6);
        assert!(budget.reserve(0.6).is_err(), "0.6 is held");
        drop(held);
        let held = budget.hold(0.6).expect("released on drop");
        let settled = held.settle(0.25, 3).unwrap();
        assert_eq!(settled.standing.spent, 0.25);
        assert!(
            budget.hold(0.75).is_ok(),
            "settled once: nothing left reserved"
        );
    }

    #[test]
    fn odd_amounts_are_safe() {
        let budget = Budget::new(1.0, 0.8, (2.0, 5));
        assert!(
            budget.reserve(0.0).is_err(),
            "restored spend is over the limit"
        );
        let budget = Budget::new(1.0, 0.8, (0.0, 0));
        assert!(budget.reserve(f64::NAN).is_err());
        let r = budget.reserve(-1.0).unwrap();
        assert_eq!(r.amount(), 0.0);
        let s = budget.settle(r, f64::INFINITY, u64::MAX);
        assert_eq!(s.standing.spent, 0.0);
        assert_eq!(s.standing.tokens, u64::MAX);
    }
}
