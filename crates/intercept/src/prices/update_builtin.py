#!/usr/bin/env python3
"""Regenerate builtin.json (agentlog's built-in price table) from LiteLLM's price file.

    pip download --no-deps litellm==VERSION -d /tmp/litellm
    unzip -o /tmp/litellm/litellm-VERSION-*.whl \
        litellm/model_prices_and_context_window_backup.json -d /tmp/litellm
    python3 update_builtin.py /tmp/litellm/litellm/model_prices_and_context_window_backup.json \
        VERSION YYYY-MM-DD > builtin.json

Then update PriceTable::BUILTIN_SOURCE in ../prices.rs to the same version and date (a test checks
that they agree). Values are copied unchanged; only the fields agentlog reads are kept.
"""
import json
import re
import sys

# OpenAI text models (chat / responses) and Anthropic's claude models, bare names only.
OPENAI = re.compile(
    r"^(gpt-4o(-mini)?|gpt-4\.1(-mini|-nano)?|o3(-mini|-pro)?|o4-mini)(-\d{4}-\d\d-\d\d)?$"
    r"|^gpt-5"
)
# The price fields agentlog reads (see prices.rs): the four per-token prices and one-hour
# cache writes, each optionally for a long-context threshold, then optionally for a service
# tier (priority, flex) or the batch API.
KEEP = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(_above_1hr)?)(_above_\d+k?_tokens)?"
    r"(_priority|_flex|_batches)?$"
    r"|^(litellm_provider|mode|max_input_tokens|max_output_tokens|provider_specific_entry)$"
)


def wanted(key, entry):
    provider = entry.get("litellm_provider")
    if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
        return False
    if provider == "openai":
        return bool(OPENAI.match(key)) and entry.get("mode") in ("chat", "responses")
    if provider == "anthropic":
        return key.startswith("claude-") and entry.get("mode") == "chat"
    return False


def main(path, version, date):
    with open(path, encoding="utf-8") as f:
        table = json.load(f)
    out = {
        "_source": {
            "description": "agentlog's built-in price table: entries copied unchanged from "
            "LiteLLM's model_prices_and_context_window_backup.json, keeping only the fields "
            "agentlog reads",
            "litellm_version": version,
            "file": "litellm/model_prices_and_context_window_backup.json in the litellm "
            f"{version} wheel on PyPI",
            "retrieved": date,
            "license": "MIT, Copyright (c) 2023 Berri AI",
        }
    }
    for key in sorted(k for k, e in table.items() if isinstance(e, dict) and wanted(k, e)):
        out[key] = {f: v for f, v in table[key].items() if KEEP.match(f)}
    json.dump(out, sys.stdout, indent=4)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
