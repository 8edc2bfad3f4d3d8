use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;

/// `testdata/prices/` at the workspace root.
fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/prices")
        .join(name)
}

fn excerpt() -> PriceTable {
    PriceTable::load(&testdata("litellm-excerpt.json")).expect("the excerpt parses")
}

/// Equal within a relative 1e-12 (the hand-computed sums are exact in decimal, not in binary).
fn assert_usd(actual: f64, expected: f64) {
    let tolerance = expected.abs() * 1e-12 + 1e-18;
    assert!(
        (actual - expected).abs() <= tolerance,
        "cost {actual} != expected {expected}"
    );
}

fn key_for(table: &PriceTable, model: &str) -> Option<String> {
    table.lookup(model).map(|m| m.key.to_owned())
}

fn parse_error(text: &str) -> String {
    match PriceTable::from_json(text, "prices.json") {
        Ok(table) => panic!("expected an error, parsed {} entries", table.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_litellm_excerpt_parses_skipping_the_spec_and_unpriced_entries() {
    let table = excerpt();
    // 13 entries: `sample_spec` and `gpt-image-1` (no output_cost_per_token) are skipped.
    assert_eq!(table.len(), 11);
    assert!(table.get("sample_spec").is_none());
    assert!(table.get("gpt-image-1").is_none());
    let gpt_4o = table.get("gpt-4o").expect("gpt-4o");
    assert_eq!(gpt_4o.input, 2.5e-06);
    assert_eq!(gpt_4o.output, 1e-05);
    assert_eq!(gpt_4o.cache_read, Some(1.25e-06));
    assert_eq!(gpt_4o.cache_creation, None);
    assert_eq!(gpt_4o.max_output_tokens, Some(16384));
    let sonnet = table.get("claude-sonnet-4-5").expect("claude-sonnet-4-5");
    assert_eq!(sonnet.cache_creation, Some(3.75e-06));
    assert_eq!(
        table.get("text-embedding-3-small").map(|p| p.output),
        Some(0.0)
    );
    let gpt_5_4 = table.get("gpt-5.4").expect("gpt-5.4");
    let standard = &gpt_5_4.schedules[0];
    assert_eq!(standard.above.len(), 1, "one long-context threshold");
    let above = standard.above.get(&272_000).expect("the 272k tier");
    assert_eq!(above.0[0], Some(5e-06));
    assert_eq!(above.0[3], None, "no cache creation price");
    let flex = gpt_5_4.schedule(ServiceTier::Flex);
    assert_eq!(flex.base.0[0], Some(1.25e-06));
    assert_eq!(
        flex.above.get(&272_000).map(|p| p.0[1]),
        Some(Some(1.125e-05))
    );
    assert!(gpt_5_4.has_tier(ServiceTier::Batch));
    assert!(
        !table
            .get("azure/gpt-4o-mini")
            .expect("listed")
            .has_tier(ServiceTier::Flex)
    );
    let sonnet = table.get("claude-sonnet-4-5").expect("listed");
    assert_eq!(
        sonnet.schedules[0].base.0[4],
        Some(6e-06),
        "one-hour cache writes"
    );
}

#[test]
fn the_builtin_table_parses_and_names_its_source() {
    let table = PriceTable::builtin();
    for key in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "claude-sonnet-4-5",
        "claude-opus-4-5",
        "claude-haiku-4-5",
    ] {
        assert!(
            table.get(key).is_some(),
            "{key} missing from the built-in table"
        );
    }
    assert!(table.len() > 50, "{} entries", table.len());
    let raw: Value = serde_json::from_str(BUILTIN_JSON).expect("builtin.json is JSON");
    let version = raw["_source"]["litellm_version"]
        .as_str()
        .expect("a version");
    let date = raw["_source"]["retrieved"].as_str().expect("a date");
    assert!(PriceTable::BUILTIN_SOURCE.contains(&format!("LiteLLM {version} ")));
    assert!(PriceTable::BUILTIN_SOURCE.ends_with(&format!("copied {date}")));
    assert_eq!(date, "2026-11-24");
}

#[test]
fn openai_cost_with_cached_tokens() {
    // gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
    let tokens = Tokens {
        input: 10_000,
        cached_read: 4_000,
        cache_creation: 0,
        cache_creation_1h: 0,
        output: 500,
    };
    let cost = excerpt().cost("gpt-4o-mini", &tokens).expect("priced");
    assert_eq!(cost.model_key, "gpt-4o-mini");
    // 6,000 * 0.15/M + 4,000 * 0.075/M + 500 * 0.6/M = 0.0009 + 0.0003 + 0.0003
    assert_usd(cost.usd, 0.0015);
}

#[test]
fn anthropic_cost_with_cache_read_and_creation() {
    // claude-sonnet-4-5: $3/M input, $0.30/M cache read, $3.75/M cache write, $15/M output.
    let tokens = Tokens::from_anthropic(100, 20_000, 5_000, 1_000);
    assert_eq!(tokens.input, 25_100);
    let cost = excerpt()
        .cost("claude-sonnet-4-5-20250929", &tokens)
        .expect("priced");
    assert_eq!(cost.model_key, "claude-sonnet-4-5-20250929");
    // 100 * 3/M + 20,000 * 0.3/M + 5,000 * 3.75/M + 1,000 * 15/M
    assert_usd(cost.usd, 0.0003 + 0.006 + 0.01875 + 0.015);
}

#[test]
fn a_missing_cache_price_falls_back_to_the_input_price() {
    // gpt-4o-2024-05-13 has no cache_read_input_token_cost: cached tokens cost $5/M too.
    let tokens = Tokens {
        input: 1_000,
        cached_read: 600,
        cache_creation: 300,
        cache_creation_1h: 0,
        output: 10,
    };
    let cost = excerpt()
        .cost("gpt-4o-2024-05-13", &tokens)
        .expect("priced");
    assert_usd(cost.usd, 1_000.0 * 5e-06 + 10.0 * 1.5e-05);
}

#[test]
fn long_context_tier_applies_above_its_threshold() {
    let table = excerpt();
    let at = |input, cached_read| Tokens {
        input,
        cached_read,
        cache_creation: 0,
        cache_creation_1h: 0,
        output: 1_000,
    };
    // At the threshold: base prices ($2.50/M, $0.25/M cached, $15/M out).
    let base = table.cost("gpt-5.4", &at(272_000, 72_000)).expect("priced");
    assert_usd(
        base.usd,
        200_000.0 * 2.5e-06 + 72_000.0 * 2.5e-07 + 1_000.0 * 1.5e-05,
    );
    // Above it: the tier ($5/M, $0.50/M cached, $22.50/M out) for every token.
    let tier = table.cost("gpt-5.4", &at(272_001, 72_000)).expect("priced");
    assert_usd(
        tier.usd,
        200_001.0 * 5e-06 + 72_000.0 * 5e-07 + 1_000.0 * 2.25e-05,
    );
}

#[test]
fn a_tier_without_cache_prices_keeps_the_lower_ones_and_resolves_to_its_input_price() {
    let text = r#"{"m": {
        "input_cost_per_token": 1.0, "output_cost_per_token": 2.0,
        "cache_read_input_token_cost": 0.1,
        "input_cost_per_token_above_1k_tokens": 10.0,
        "output_cost_per_token_above_2k_tokens": 20.0
    }}"#;
    let table = PriceTable::from_json(text, "t.json").expect("parses");
    let tokens = |input| Tokens {
        input,
        cached_read: 100,
        cache_creation: 100,
        cache_creation_1h: 0,
        output: 1,
    };
    // Above 1k: input 10, output still 2, cache read still 0.1, cache creation = input 10.
    let cost = table.cost("m", &tokens(1_500)).expect("priced").usd;
    assert_usd(cost, 1_300.0 * 10.0 + 100.0 * 0.1 + 100.0 * 10.0 + 2.0);
    // Above 2k as well: output 20.
    let cost = table.cost("m", &tokens(2_500)).expect("priced").usd;
    assert_usd(cost, 2_300.0 * 10.0 + 100.0 * 0.1 + 100.0 * 10.0 + 20.0);
}

#[test]
fn inconsistent_counts_saturate() {
    let tokens = Tokens {
        input: 10,
        cached_read: 1_000,
        cache_creation: 1_000,
        cache_creation_1h: 0,
        output: 0,
    };
    let cost = excerpt().cost("claude-haiku-4-5", &tokens).expect("priced");
    // No uncached input; the cache counts are charged as reported.
    assert_usd(cost.usd, 1_000.0 * 1e-07 + 1_000.0 * 1.25e-06);
    let max = Tokens {
        input: u64::MAX,
        cached_read: u64::MAX,
        cache_creation: u64::MAX,
        cache_creation_1h: 0,
        output: u64::MAX,
    };
    let cost = excerpt().cost("claude-haiku-4-5", &max).expect("priced");
    assert!(cost.usd.is_finite() && cost.usd > 0.0);
}

#[test]
fn huge_prices_give_a_finite_cost_and_negative_zero_is_zero() {
    let text = r#"{"huge": {"input_cost_per_token": 1e308, "output_cost_per_token": 1e308},
                   "zero": {"input_cost_per_token": -0.0, "output_cost_per_token": -0}}"#;
    let table = PriceTable::from_json(text, "t.json").expect("parses");
    let tokens = Tokens {
        input: u64::MAX,
        output: u64::MAX,
        ..Tokens::default()
    };
    assert_eq!(table.cost("huge", &tokens).map(|c| c.usd), Some(f64::MAX));
    let zero = table.cost("zero", &tokens).expect("priced").usd;
    assert!(zero == 0.0 && zero.is_sign_positive(), "{zero:?}");
}

#[test]
fn matching_as_providers_return_names() {
    let table = excerpt();
    let cases = [
        // A dated key that is present wins (its price differs from gpt-4o's).
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        // A dated name that is absent falls back to the undated key.
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("claude-sonnet-4-5-20991231", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        // Provider prefixes, one or two of them.
        ("openai/gpt-4o", "gpt-4o"),
        (
            "openrouter/openai/gpt-4o-mini-2024-07-18",
            "gpt-4o-mini-2024-07-18",
        ),
        (
            "anthropic/claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5-20250929",
        ),
        // A provider-specific key wins over the bare one.
        ("azure/gpt-4o-mini", "azure/gpt-4o-mini"),
        (
            "vertex_ai/claude-3-5-haiku@20241022",
            "vertex_ai/claude-3-5-haiku@20241022",
        ),
        // Case and surrounding space.
        ("GPT-4o", "gpt-4o"),
        (" gpt-4o\n", "gpt-4o"),
    ];
    for (model, key) in cases {
        assert_eq!(
            key_for(&table, model).as_deref(),
            Some(key),
            "model {model:?}"
        );
    }
    for unknown in [
        "gpt-9",
        "gpt-4oo",
        "llama-3-70b",
        "",
        "/",
        "openai/",
        "-",
        "2024-07-18",
        // Never cut at a `-`: these were matched by a prefix once.
        "claude-sonnet-4-5-20250929-v1:0",
        "gpt-4o-mini-fast",
        "openai/gpt-4o-2024-08-06-preview",
    ] {
        assert_eq!(key_for(&table, unknown), None, "model {unknown:?}");
        assert_eq!(table.cost(unknown, &Tokens::default()), None);
    }
}

#[test]
fn a_provider_segment_is_removed_whole_never_cut() {
    let text = r#"{"openrouter": {"input_cost_per_token": 1, "output_cost_per_token": 1},
                   "openrouter/x": {"input_cost_per_token": 1, "output_cost_per_token": 1}}"#;
    let table = PriceTable::from_json(text, "t.json").expect("parses");
    assert_eq!(key_for(&table, "openrouter/foo-bar"), None);
    assert_eq!(key_for(&table, "openrouter/x-y"), None);
    assert_eq!(
        key_for(&table, "openrouter/x").as_deref(),
        Some("openrouter/x")
    );
    assert_eq!(
        key_for(&table, "a/openrouter").as_deref(),
        Some("openrouter")
    );
}

/// Tricky names against the built-in table: the key each must match, or `None` when it must
/// be unpriced (the budget then reserves at the dearest entry). A variant must never take its
/// base model's (cheaper) price.
#[test]
fn tricky_names_match_exactly_what_the_rule_says() {
    let table = PriceTable::builtin();
    let cases: &[(&str, Option<&str>)] = &[
        // Dash extensions are other models, not their base.
        ("o3-deep-research", None),
        ("o3-deep-research-2025-06-26", None),
        ("openai/o3-deep-research", None),
        ("o4-mini-deep-research", None),
        ("gpt-4o-audio-preview", None),
        ("gpt-4o-audio-preview-2024-12-17", None),
        ("gpt-4o-realtime-preview", None),
        ("gpt-4o-mini-realtime-preview", None),
        ("gpt-4o-mini-audio-preview", None),
        ("gpt-4o-search-preview", None),
        ("gpt-5-mini-fast", None),
        ("o3-x", None),
        // `-mini` is its own entry, and the base is not the mini.
        ("gpt-4o-mini", Some("gpt-4o-mini")),
        ("gpt-4o", Some("gpt-4o")),
        ("o3-mini", Some("o3-mini")),
        ("o3", Some("o3")),
        ("o3-pro", Some("o3-pro")),
        ("gpt-5.4-mini", Some("gpt-5.4-mini")),
        // Provider prefixes are removed whole, one segment at a time.
        ("openai/gpt-4o-mini", Some("gpt-4o-mini")),
        ("openrouter/openai/o3", Some("o3")),
        ("anthropic/claude-opus-4-5", Some("claude-opus-4-5")),
        ("openai/", None),
        ("openai//o3", Some("o3")),
        // Dates: a listed dated key wins; an unlisted one falls back to the undated key.
        ("gpt-4o-2024-05-13", Some("gpt-4o-2024-05-13")),
        ("gpt-4o-2024-08-06", Some("gpt-4o-2024-08-06")),
        ("gpt-4o-2030-01-01", Some("gpt-4o")),
        ("o3-20300101", Some("o3")),
        ("claude-opus-4-5-20991231", Some("claude-opus-4-5")),
        ("claude-opus-4-5@20991231", Some("claude-opus-4-5")),
        ("openai/gpt-4.1-mini-2030-12-31", Some("gpt-4.1-mini")),
        // Only one date, only at the end, only a plausible one.
        ("gpt-4o-2030-01-01-2030-01-01", None),
        ("gpt-4o-2030-13-01", None),
        ("gpt-4o-2030-01-32", None),
        ("gpt-4o-2030-01-01-preview", None),
        ("gpt-4o_2030-01-01", None),
        ("o3-2025", None),
        // Case and white space.
        ("O3-MINI", Some("o3-mini")),
        ("\to3\n", Some("o3")),
        // Empty, separators, unicode.
        ("", None),
        ("   ", None),
        ("-", None),
        ("/", None),
        ("@20240101", None),
        ("gpt-4o\u{2011}mini", None),
        ("gpt\u{2010}4o", None),
        ("\u{1F600}/o3", Some("o3")),
        ("o3\u{0301}", None),
        ("ｇｐｔ-4o", None),
        ("gpt-4o-mini\u{0}", None),
    ];
    for (model, key) in cases {
        assert_eq!(key_for(&table, model).as_deref(), *key, "model {model:?}");
    }
}

#[test]
fn dates_are_stripped_only_when_they_look_like_dates() {
    assert_eq!(strip_date("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
    assert_eq!(
        strip_date("claude-sonnet-4-20250514"),
        Some("claude-sonnet-4")
    );
    assert_eq!(
        strip_date("claude-3-5-haiku@20241022"),
        Some("claude-3-5-haiku")
    );
    assert_eq!(strip_date("gpt-4o-2024-13-01"), None);
    assert_eq!(strip_date("model-20241300"), None);
    assert_eq!(strip_date("model-1234567"), None);
    assert_eq!(strip_date("-20240101"), None);
    assert_eq!(strip_date("gpt-4.1"), None);
}

#[test]
fn price_accessors_use_the_matching_rule() {
    let table = excerpt();
    assert_eq!(table.input_price("openai/gpt-4o-2024-11-20"), Some(2.5e-06));
    assert_eq!(table.output_price("openai/gpt-4o-2024-11-20"), Some(1e-05));
    assert_eq!(table.output_price("unknown-model"), None);
    assert_eq!(table.input_price("unknown-model"), None);
}

#[test]
fn a_loaded_table_overrides_the_builtin_one() {
    let loaded = r#"{"gpt-4o": {"input_cost_per_token": 1e-05, "output_cost_per_token": 2e-05},
                     "my-local-model": {"input_cost_per_token": 0, "output_cost_per_token": 0}}"#;
    let loaded = PriceTable::from_json(loaded, "prices.json").expect("parses");
    let builtin = PriceTable::builtin();
    let builtin_len = builtin.len();
    let table = builtin.with_overrides(loaded);
    assert_eq!(table.len(), builtin_len + 1);
    assert_eq!(table.input_price("gpt-4o"), Some(1e-05));
    assert_eq!(table.output_price("openai/gpt-4o"), Some(2e-05));
    assert_eq!(
        table.output_price("gpt-4o-mini"),
        Some(6e-07),
        "others are kept"
    );
    assert_eq!(table.input_price("my-local-model"), Some(0.0));
}

#[test]
fn a_bad_price_in_a_file_names_the_file_the_entry_and_the_field() {
    let path = testdata("bad-price.json");
    let error = PriceTable::load(&path).expect_err("a bad price");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: entry \"gpt-x\": input_cost_per_token must be a non-negative number, got \"abc\"",
            path.display()
        )
    );
    assert!(
        matches!(error, PriceError::BadPrice { ref field, .. } if field == "input_cost_per_token")
    );
}

#[test]
fn a_bad_modifier_field_names_the_file_the_entry_and_the_field() {
    let path = testdata("bad-modifier.json");
    let error = PriceTable::load(&path).expect_err("a bad one-hour price");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: entry \"claude-x\": cache_creation_input_token_cost_above_1hr must be a non-negative number, got -6e-6",
            path.display()
        )
    );
    for field in [
        "input_cost_per_token_flex",
        "output_cost_per_token_batches",
        "cache_read_input_token_cost_priority",
        "cache_creation_input_token_cost_batches",
        "cache_creation_input_token_cost_above_1hr_priority",
        "cache_creation_input_token_cost_above_1hr_above_200k_tokens",
        "input_cost_per_token_above_272k_tokens_flex",
        "output_cost_per_token_above_200k_tokens_batches",
    ] {
        let text = format!(
            r#"{{"m": {{"input_cost_per_token": 1, "output_cost_per_token": 1, "{field}": "cheap"}}}}"#
        );
        assert_eq!(
            parse_error(&text),
            format!(
                r#"prices.json: entry "m": {field} must be a non-negative number, got "cheap""#
            ),
        );
    }
}

#[test]
fn tier_prices_fall_back_field_by_field_as_litellm_does() {
    let text = r#"{"m": {
        "input_cost_per_token": 1.0, "output_cost_per_token": 2.0,
        "cache_read_input_token_cost": 0.1,
        "input_cost_per_token_above_1k_tokens": 10.0,
        "input_cost_per_token_flex": 0.5,
        "output_cost_per_token_above_1k_tokens_flex": 15.0,
        "input_cost_per_token_batches": 0.4,
        "input_cost_per_token_priority": 3.0
    }}"#;
    let m = PriceTable::from_json(text, "t.json").expect("parses");
    let m = m.get("m").expect("listed");
    let tokens = |input| Tokens {
        input,
        cached_read: 100,
        output: 10,
        ..Tokens::default()
    };
    // Flex below the threshold: flex input, standard cache read and output.
    assert_usd(
        m.cost_usd_in(&tokens(500), ServiceTier::Flex),
        400.0 * 0.5 + 100.0 * 0.1 + 10.0 * 2.0,
    );
    // Flex above it: the standard long-context input (no flex one), the flex one for output.
    assert_usd(
        m.cost_usd_in(&tokens(1_500), ServiceTier::Flex),
        1_400.0 * 10.0 + 100.0 * 0.1 + 10.0 * 15.0,
    );
    // Batch: its input price; no batch output price, so the standard one (not halved).
    assert_usd(
        m.cost_usd_in(&tokens(500), ServiceTier::Batch),
        400.0 * 0.4 + 100.0 * 0.1 + 10.0 * 2.0,
    );
    // Priority above the threshold: the standard long-context input (10) beats priority (3).
    assert_usd(
        m.cost_usd_in(&tokens(1_500), ServiceTier::Priority),
        1_400.0 * 10.0 + 100.0 * 0.1 + 10.0 * 2.0,
    );
}

#[test]
fn one_hour_cache_writes_are_priced_at_their_own_price() {
    let table = excerpt();
    let sonnet = table.get("claude-sonnet-4-5").expect("listed");
    // 100 plain input, 1,000 written for 5 minutes, 4,000 for an hour, 50 output.
    let tokens = Tokens {
        cache_creation_1h: 4_000,
        ..Tokens::from_anthropic(100, 0, 5_000, 50)
    };
    assert_usd(
        sonnet.cost_usd(&tokens),
        100.0 * 3e-6 + 1_000.0 * 3.75e-6 + 4_000.0 * 6e-6 + 50.0 * 1.5e-5,
    );
    // More one-hour writes than writes: all of them at the one-hour price, never negative.
    let lying = Tokens {
        cache_creation_1h: 9_000,
        ..tokens
    };
    assert_usd(
        sonnet.cost_usd(&lying),
        100.0 * 3e-6 + 5_000.0 * 6e-6 + 50.0 * 1.5e-5,
    );
    // No one-hour price: the cache-creation price.
    let gpt = table.get("gpt-4o").expect("listed");
    assert_usd(
        gpt.cost_usd(&tokens),
        100.0 * 2.5e-6 + 5_000.0 * 2.5e-6 + 50.0 * 1e-5,
    );
}

#[test]
fn stated_tiers() {
    for (stated, tier) in [
        ("priority", ServiceTier::Priority),
        ("Priority", ServiceTier::Priority),
        ("flex", ServiceTier::Flex),
        ("batch", ServiceTier::Batch),
        ("default", ServiceTier::Standard),
        ("standard", ServiceTier::Standard),
        ("auto", ServiceTier::Standard),
        ("scale", ServiceTier::Standard),
        ("", ServiceTier::Standard),
    ] {
        assert_eq!(ServiceTier::from_stated(stated), tier, "{stated}");
    }
    let names: Vec<&str> = ServiceTier::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["standard", "priority", "flex", "batch"]);
}

#[test]
fn malformed_fields_are_errors_even_in_entries_that_would_be_skipped() {
    let cases = [
        (
            r#"{"m": {"input_cost_per_token": 1, "output_cost_per_token": -2e-06}}"#,
            r#"prices.json: entry "m": output_cost_per_token must be a non-negative number, got -2e-6"#,
        ),
        (
            r#"{"img": {"input_cost_per_token": 1, "cache_read_input_token_cost": true}}"#,
            r#"prices.json: entry "img": cache_read_input_token_cost must be a non-negative number, got true"#,
        ),
        (
            r#"{"m": {"input_cost_per_token": 1, "output_cost_per_token": 1,
                      "cache_creation_input_token_cost_above_200k_tokens": {"a": 1}}}"#,
            r#"prices.json: entry "m": cache_creation_input_token_cost_above_200k_tokens must be a non-negative number, got {"a":1}"#,
        ),
        (
            r#"{"m": {"input_cost_per_token": 1, "output_cost_per_token": 1,
                      "output_cost_per_token_priority": "2"}}"#,
            r#"prices.json: entry "m": output_cost_per_token_priority must be a non-negative number, got "2""#,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_error(text), expected);
    }
}

#[test]
fn priority_prices_come_from_the_priority_fields_never_below_standard() {
    let table = excerpt();
    let tokens = Tokens {
        input: 1_000,
        cached_read: 400,
        cache_creation: 0,
        cache_creation_1h: 0,
        output: 200,
    };
    let gpt4o = table.get("gpt-4o").expect("listed");
    // 600 * 4.25/M + 400 * 2.125/M + 200 * 17/M
    assert_usd(
        gpt4o.cost_usd_in(&tokens, ServiceTier::Priority),
        600.0 * 4.25e-6 + 400.0 * 2.125e-6 + 200.0 * 1.7e-5,
    );
    assert_usd(
        gpt4o.cost_usd_in(&tokens, ServiceTier::Standard),
        gpt4o.cost_usd(&tokens),
    );
    // No priority prices: the standard ones.
    let azure = table.get("azure/gpt-4o-mini").expect("listed");
    assert_usd(
        azure.cost_usd_in(&tokens, ServiceTier::Priority),
        azure.cost_usd(&tokens),
    );
    // Above 272k tokens gpt-5.4's standard input price (5/M) is not below its priority one.
    let long = Tokens {
        input: 300_000,
        ..Tokens::default()
    };
    let gpt54 = table.get("gpt-5.4").expect("listed");
    assert_usd(
        gpt54.cost_usd_in(&long, ServiceTier::Priority),
        300_000.0 * 5e-6,
    );
    assert!(table.highest_cost_in(&tokens, ServiceTier::Priority) >= table.highest_cost(&tokens));
}

#[test]
fn fields_that_are_not_read_are_never_errors() {
    let text = r#"{"m": {"input_cost_per_token": null, "output_cost_per_token": 1,
                         "max_output_tokens": "lots", "mode": 7,
                         "input_cost_per_token_ultrafast": "x",
                         "cache_creation_input_token_cost_above_12hr": "x",
                         "input_cost_per_audio_token_batches": "x",
                         "input_cost_per_token_priority_above_200k_tokens": "x"},
                   "n": {"input_cost_per_token": 1, "output_cost_per_token": 1,
                         "max_output_tokens": 1.5}}"#;
    let table = PriceTable::from_json(text, "t.json").expect("parses");
    assert!(
        table.get("m").is_none(),
        "a null input price is absent: skipped"
    );
    assert_eq!(table.get("n").map(|p| p.max_output_tokens), Some(None));
}

#[test]
fn invalid_json_names_the_file_line_and_column() {
    let error = PriceTable::from_json("{\n  \"m\": {\"input_cost_per_token\": 1,,\n}", "p.json")
        .expect_err("invalid JSON");
    let PriceError::Json {
        line,
        column,
        message,
        ..
    } = &error
    else {
        panic!("expected a JSON error, got {error:?}");
    };
    assert_eq!((*line, *column), (2, 35));
    assert!(!message.contains(" at line "), "{message}");
    assert_eq!(
        error.to_string(),
        format!("p.json: invalid JSON at line 2, column 35: {message}")
    );
}

#[test]
fn structural_errors_name_the_file_and_entry() {
    assert_eq!(
        parse_error("[1, 2]"),
        "prices.json: a price table must be a JSON object keyed by model name, got [1,2]"
    );
    assert_eq!(
        parse_error(r#"{"gpt-4o": 0.001}"#),
        "prices.json: entry \"gpt-4o\" must be a JSON object, got 0.001"
    );
    let long = format!(r#"{{"m": "{}"}}"#, "é".repeat(100));
    let message = parse_error(&long);
    assert!(message.ends_with("...") && message.len() < 250, "{message}");
}

#[test]
fn a_missing_file_names_it() {
    let path = testdata("no-such-file.json");
    let error = PriceTable::load(&path).expect_err("missing");
    assert!(matches!(error, PriceError::Read { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: cannot read", path.display())),
        "{error}"
    );
}

/// Prices as a JSON file could hold them: zero, tiny, ordinary and absurdly large.
fn any_price() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        0.0..1e-3f64,
        0.0..f64::MAX,
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
    ]
}

fn any_tokens() -> impl Strategy<Value = Tokens> {
    let count = prop_oneof![Just(0u64), 0..1_000_000u64, any::<u64>(), Just(u64::MAX)];
    (count.clone(), count.clone(), count.clone(), count).prop_map(
        |(input, cached_read, cache_creation, output)| Tokens {
            input,
            cached_read,
            cache_creation,
            cache_creation_1h: 0,
            output,
        },
    )
}

proptest! {
    #[test]
    fn cost_is_finite_and_not_negative(
        tokens in any_tokens(),
        prices in proptest::collection::vec(proptest::option::of(any_price()), 8),
        threshold in any::<u32>(),
    ) {
        let mut entry = Map::new();
        let fields = [INPUT, OUTPUT, CACHE_READ, CACHE_CREATION];
        for (i, price) in prices.iter().enumerate() {
            let Some(price) = price else { continue };
            let field = fields[i % 4];
            let name = if i < 4 {
                field.to_owned()
            } else {
                format!("{field}_above_{threshold}_tokens")
            };
            entry.insert(name, Value::from(*price));
        }
        entry.insert(INPUT.to_owned(), Value::from(prices[0].unwrap_or(0.0)));
        entry.insert(OUTPUT.to_owned(), Value::from(prices[1].unwrap_or(0.0)));
        let text = serde_json::json!({ "m": entry }).to_string();
        let table = PriceTable::from_json(&text, "t.json").expect("valid prices parse");
        for model in ["m", "openai/m-2024-01-01"] {
            let usd = table.cost(model, &tokens).expect("priced").usd;
            prop_assert!(usd.is_finite() && usd >= 0.0 && usd.is_sign_positive(), "{usd}");
        }
        let builtin = PriceTable::builtin();
        for model in ["gpt-5.4", "claude-opus-4-8", "o3", "gpt-4o-mini-2024-07-18"] {
            let usd = builtin.cost(model, &tokens).expect("priced").usd;
            prop_assert!(usd.is_finite() && usd >= 0.0, "{model}: {usd}");
        }
    }

    #[test]
    fn parsing_and_matching_never_panic(text in ".{0,200}", model in ".{0,60}") {
        let _ = PriceTable::from_json(&text, "t.json");
        let _ = excerpt().lookup(&model);
    }

    #[test]
    fn parsing_arbitrary_entries_never_panics(
        entries in proptest::collection::btree_map(
            "[a-z/@-]{0,12}",
            prop_oneof![
                Just(Value::Null),
                any::<f64>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                ".{0,8}".prop_map(Value::from),
            ],
            0..6,
        ),
    ) {
        let mut fields: Map<String, Value> = entries
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| (format!("{}{k}", [INPUT, OUTPUT, CACHE_READ, "x"][i % 4]), v))
            .collect();
        fields.insert("mode".to_owned(), Value::from("chat"));
        let text = serde_json::json!({ "m": fields }).to_string();
        if let Ok(table) = PriceTable::from_json(&text, "t.json") {
            let _ = table.cost("m", &Tokens { input: 5, cached_read: 3, cache_creation: 9, cache_creation_1h: 4, output: 1 });
        }
    }
}

/// `testdata/prices/litellm-modifiers.json`: costs LiteLLM computes for each billing modifier
/// (priority, flex, one-hour cache writes, batch) on the price file the built-in table is
/// copied from (`litellm_modifiers.py` wrote it). The built-in table gives the same costs.
#[test]
fn the_builtin_table_prices_modifiers_as_litellm_does() {
    let text = std::fs::read_to_string(testdata("litellm-modifiers.json")).expect("the table");
    let table: Value = serde_json::from_str(&text).expect("JSON");
    let version = table["litellm_version"].as_str().expect("a version");
    assert!(
        PriceTable::BUILTIN_SOURCE.contains(&format!("LiteLLM {version} ")),
        "computed with LiteLLM {version}, the built-in table is {}",
        PriceTable::BUILTIN_SOURCE
    );
    let prices = PriceTable::builtin();
    let cases = table["cases"].as_array().expect("cases");
    assert!(cases.len() >= 16, "{} cases", cases.len());
    for case in cases {
        let n = |k: &str| case[k].as_u64().expect(k);
        let model = case["model"].as_str().expect("model");
        let tier = ServiceTier::from_stated(case["tier"].as_str().expect("tier"));
        let (five, hour) = (n("cache_creation_5m_tokens"), n("cache_creation_1h_tokens"));
        let tokens = Tokens {
            input: n("input_tokens"),
            cached_read: n("cached_read_tokens"),
            cache_creation: five + hour,
            cache_creation_1h: hour,
            output: n("output_tokens"),
        };
        let expected = case["litellm_cost_usd"].as_f64().expect("a cost");
        let cost = prices.cost_in(model, &tokens, tier).expect("priced");
        assert!(
            (cost.usd - expected).abs() <= expected * 1e-9,
            "{model} at {tier:?}: {} != LiteLLM's {expected}",
            cost.usd
        );
    }
}

/// `provider_specific_entry`'s regional multipliers: charged where the provider says it ran
/// the request, reserved at the largest.
#[test]
fn regional_surcharges_apply_where_the_request_ran() {
    let prices = PriceTable::builtin();
    let found = prices
        .lookup("claude-sonnet-4-6")
        .expect("in the built-in table");
    assert_eq!(found.price.surcharge(Some("us")), 1.1);
    assert_eq!(found.price.surcharge(Some("US")), 1.1);
    for elsewhere in [None, Some("global"), Some("not_available"), Some("eu")] {
        assert_eq!(found.price.surcharge(elsewhere), 1.0, "{elsewhere:?}");
    }
    assert_eq!(found.price.max_surcharge(), 1.1);
    let tokens = Tokens {
        input: 1_000,
        output: 100,
        ..Tokens::default()
    };
    let plain = prices
        .cost_in("claude-sonnet-4-6", &tokens, ServiceTier::Standard)
        .unwrap();
    let us = (prices.cost_served(
        "claude-sonnet-4-6",
        &tokens,
        ServiceTier::Standard,
        Some("us"),
    ))
    .unwrap();
    assert!((us.usd - plain.usd * 1.1).abs() < 1e-15);
    // A bad multiplier is an error naming the field; a string is not a multiplier.
    let bad = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
        "provider_specific_entry": {"us": -1}}}"#;
    let err = PriceTable::from_json(bad, "prices.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("provider_specific_entry.us"), "{err}");
    let schema = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
        "provider_specific_entry": {"bedrock_invocation_schema": "titan_v2"}}}"#;
    let table = PriceTable::from_json(schema, "prices.json").unwrap();
    assert_eq!(table.lookup("m").unwrap().price.max_surcharge(), 1.0);
}
