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
//! | the response | charged |
//! |---|---|
//! | reported usage, price known (or the provider's own cost) | that cost |
//! | a 2xx with no usage at all (`usage` `unknown`) | the reservation |
//! | ended before its final usage (`usage` `partial`) | the larger of the reservation and the cost of the counts seen |
//! | an error status with no usage | nothing (providers do not bill failed requests) |
//!
//! The charged amount is the response event's `cost_usd` (`cost_source` `reservation` when
//! the reservation was charged), so the log alone says what was spent, and a restart adds it
//! up again (`restore`).
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

use std::sync::Mutex;

pub use estimate::{DEFAULT_MAX_OUTPUT_TOKENS, RequestFacts, worst_case};

pub use restore::{Restored, restore_from_log};

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
