#!/usr/bin/env python3
"""Expected costs of agentlog's billing modifiers, computed with LiteLLM on its own price file.

    python3 -m venv venv && venv/bin/pip install litellm==1.109.1
    LITELLM_LOCAL_MODEL_COST_MAP=True venv/bin/python litellm_modifiers.py > litellm-modifiers.json

LITELLM_LOCAL_MODEL_COST_MAP=True makes LiteLLM read the price file in its wheel
(model_prices_and_context_window_backup.json), the file agentlog's built-in table is copied
from, instead of fetching the newest one. Each case names a model, the token counts agentlog
would read from the response, and the tier; the expected cost is LiteLLM's
`cost_per_token(..., service_tier=...)` (priority, flex, one-hour cache writes) or
`batch_cost_calculator` (batch), prompt plus completion.
"""
import json
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm.cost_calculator import batch_cost_calculator  # noqa: E402
from litellm.types.utils import (  # noqa: E402
    CacheCreationTokenDetails,
    PromptTokensDetailsWrapper,
    Usage,
)

# (model, provider, tier, input (all, cached and written included), cached read,
#  written for 5 minutes, written for an hour, output)
CASES = [
    # Priority: OpenAI chat and reasoning models.
    ("gpt-4o", "openai", "priority", 10_000, 0, 0, 0, 1_000),
    ("gpt-4o", "openai", "priority", 10_000, 4_096, 0, 0, 1_000),
    ("gpt-4.1", "openai", "priority", 3_000, 1_024, 0, 0, 500),
    ("o4-mini", "openai", "priority", 2_000, 0, 0, 0, 4_000),
    ("gpt-5", "openai", "priority", 50_000, 20_000, 0, 0, 2_000),
    ("gpt-5-mini", "openai", "priority", 8_000, 0, 0, 0, 800),
    # Flex.
    ("o3", "openai", "flex", 10_000, 2_048, 0, 0, 3_000),
    ("o4-mini", "openai", "flex", 5_000, 0, 0, 0, 1_000),
    ("gpt-5", "openai", "flex", 40_000, 10_000, 0, 0, 5_000),
    ("gpt-5-mini", "openai", "flex", 1_000, 0, 0, 0, 200),
    # The standard tier, for comparison.
    ("gpt-5", "openai", "default", 40_000, 10_000, 0, 0, 5_000),
    # One-hour cache writes (Anthropic), alone and mixed with five-minute writes and reads.
    ("claude-sonnet-4-5", "anthropic", "standard", 12_000, 0, 0, 10_000, 300),
    ("claude-sonnet-4-5", "anthropic", "standard", 20_100, 5_000, 5_000, 10_000, 400),
    ("claude-haiku-4-5", "anthropic", "standard", 8_050, 0, 3_000, 5_000, 100),
    ("claude-opus-4-5", "anthropic", "standard", 30_000, 10_000, 0, 20_000, 1_000),
    # Batch API prices.
    ("gpt-4o", "openai", "batch", 10_000, 0, 0, 0, 1_000),
    ("gpt-5", "openai", "batch", 20_000, 0, 0, 0, 2_000),
    ("claude-sonnet-4-5", "anthropic", "batch", 10_000, 0, 0, 0, 1_000),
    ("claude-haiku-4-5", "anthropic", "batch", 6_000, 2_000, 1_000, 0, 500),
]


def usage(input_tokens, cached, five_min, one_hour, output):
    written = five_min + one_hour
    details = PromptTokensDetailsWrapper(cached_tokens=cached or None)
    if written:
        details.cache_creation_tokens = written
        details.cache_creation_token_details = CacheCreationTokenDetails(
            ephemeral_5m_input_tokens=five_min, ephemeral_1h_input_tokens=one_hour
        )
    return Usage(
        prompt_tokens=input_tokens,
        completion_tokens=output,
        total_tokens=input_tokens + output,
        prompt_tokens_details=details,
        cache_read_input_tokens=cached or None,
        cache_creation_input_tokens=written or None,
    )


def cost(model, provider, tier, *counts):
    u = usage(*counts)
    if tier == "batch":
        prompt, completion = batch_cost_calculator(u, model, provider)
    else:
        prompt, completion = litellm.cost_per_token(
            model=model,
            custom_llm_provider=provider,
            usage_object=u,
            service_tier=None if tier in ("default", "standard") else tier,
        )
    return prompt + completion


def main():
    cases = []
    for model, provider, tier, inp, cached, five, hour, out in CASES:
        cases.append(
            {
                "model": model,
                "tier": tier,
                "input_tokens": inp,
                "cached_read_tokens": cached,
                "cache_creation_5m_tokens": five,
                "cache_creation_1h_tokens": hour,
                "output_tokens": out,
                "litellm_cost_usd": cost(model, provider, tier, inp, cached, five, hour, out),
            }
        )
    json.dump(
        {
            "description": "Expected costs of agentlog's billing modifiers (service tiers, "
            "one-hour cache writes, batch prices), computed by litellm_modifiers.py with "
            "LiteLLM's cost_per_token and batch_cost_calculator on the price file in its "
            "wheel. input_tokens counts every input token, cached and written ones included.",
            "litellm_version": litellm.__version__ if hasattr(litellm, "__version__") else "1.109.1",
            "cases": cases,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
