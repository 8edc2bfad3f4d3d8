//! `--profile`: one value parser for every command that takes a profile, built from the one
//! profile type (agentlog-core's `schema::Profile`, or the validator's `ProfileChoice` over
//! it). A command lists the profiles it accepts, each with what `--help` says of it; the
//! names are the type's own.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// A `--profile` value parser accepting `choices` and nothing else: each named by `name`,
/// listed in `--help` with its text, in the order given.
pub(crate) fn parser<T: Copy + Send + Sync + 'static>(
    choices: &'static [(T, &'static str)],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values = choices
        .iter()
        .map(|(choice, help)| PossibleValue::new(name(*choice)).help(*help));
    PossibleValuesParser::new(values).try_map(move |given| {
        choices
            .iter()
            .find(|(choice, _)| name(*choice) == given)
            .map(|(choice, _)| *choice)
            .ok_or("unknown profile")
    })
}

#[cfg(test)]
mod tests {
    /// The proxy's `--profile` offers exactly the event-log profiles, in their order.
    #[test]
    fn the_proxy_offers_the_event_log_profiles() {
        let offered = crate::cli::proxy::EVENT_PROFILES.map(|(profile, _)| profile);
        assert_eq!(offered, agentlog_core::schema::Profile::EVENT_LOGS);
    }
}
