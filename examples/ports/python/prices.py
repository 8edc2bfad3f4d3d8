"""The price table that turns token counts into US dollars, as `agentlog proxy` reads it.

Model
-----
A table in LiteLLM's `model_prices_and_context_window.json` format: an object keyed by
model name whose entries carry per-token prices. `prices.json` beside this file is a copy,
byte for byte, of the reference's built-in table (`crates/intercept/src/prices/builtin.json`,
copied from LiteLLM 1.109.1, MIT licence: see its `_source` entry); `--prices FILE` loads
another whose entries override it. An entry without `input_cost_per_token` and
`output_cost_per_token` is not a price (`_source`, `sample_spec`).

A price field is `BASE[_above_Nk_tokens][_TIER]`: BASE is `input_cost_per_token`,
`output_cost_per_token`, `cache_read_input_token_cost`, `cache_creation_input_token_cost` or
`cache_creation_input_token_cost_above_1hr`; `_above_Nk_tokens` applies when the request's
input tokens pass N (long-context prices); TIER is `_priority`, `_flex` or `_batches`. A price
a tier lacks is the standard one, field by field; a priority price is never below the
standard one. A cache read or write without its own price costs the input price; a one-hour
cache write without one the five-minute price. `provider_specific_entry` holds regional
multipliers (`{"us": 1.1}`): the worst case uses the largest, a cost the one the response
names (`usage.inference_geo`; none for `global`).

Lookup, as the reference does: the name with surrounding white space removed, exactly, then
with leading `provider/` segments removed one at a time, then any of those without one
trailing date (`-YYYY-MM-DD`, `-YYYYMMDD`, `@YYYYMMDD`), then all of that again lower-cased.
"""

import json
import math
import os
import re

BASES = (
    "cache_creation_input_token_cost_above_1hr",
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
TIERS = ("standard", "priority", "flex", "batch")
TIER_SUFFIX = {"priority": "_priority", "flex": "_flex", "batch": "_batches"}
THRESHOLD = re.compile(r"_above_([0-9]+)(k?)_tokens")
DATED = (re.compile(r"^(.+)-([0-9]{4})-([0-9]{2})-([0-9]{2})$"), re.compile(r"^(.+)[-@]([0-9]{4})([0-9]{2})([0-9]{2})$"))
BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prices.json")


def tier_of(stated):
    """The tier a response or request states (`default`, `auto`, `scale`: standard)."""
    stated = (stated or "").strip().lower()
    return stated if stated in ("priority", "flex", "batch") else "standard"


class Tokens:
    def __init__(self, input=0, cached_read=0, cache_creation=0, cache_creation_1h=0, output=0):
        self.input, self.cached_read, self.cache_creation = input, cached_read, cache_creation
        self.cache_creation_1h, self.output = cache_creation_1h, output


class ModelPrice:
    """One entry: schedules[tier] = (base {field: price}, {threshold: {field: price}})."""

    def __init__(self, fields):
        self.schedules = {t: ({}, {}) for t in TIERS}
        for name, value in fields.items():
            parsed = parse_field(name)
            if parsed is None or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
                raise ValueError(f"{name} must be a non-negative number")
            base, above, tier = parsed
            base_prices, thresholds = self.schedules[tier]
            (base_prices if above is None else thresholds.setdefault(above, {}))[base] = float(value)
        standard = self.schedules["standard"][0]
        self.valid = "input_cost_per_token" in standard and "output_cost_per_token" in standard
        limit = fields.get("max_output_tokens")
        self.max_output_tokens = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else None
        geo = fields.get("provider_specific_entry")
        self.surcharges = {}
        if isinstance(geo, dict):
            for name, m in geo.items():
                if isinstance(m, (int, float)) and not isinstance(m, bool):
                    if not m >= 0 or math.isinf(m):
                        raise ValueError(f"provider_specific_entry.{name} must be a non-negative number")
                    self.surcharges[name.lower()] = float(m)

    def surcharge(self, geo):
        return self.surcharges.get(geo.lower(), 1.0) if geo else 1.0

    def max_surcharge(self):
        return max([1.0, *self.surcharges.values()])

    def rates(self, input_tokens, tier):
        standard, own = self.schedules["standard"], self.schedules[tier]
        prices = {**standard[0], **own[0]}
        for threshold in sorted(set(standard[1]) | set(own[1])):
            if input_tokens > threshold:
                prices.update(standard[1].get(threshold, {}))
                prices.update(own[1].get(threshold, {}))
        base = self.schedules["standard"][0]
        inp = prices.get("input_cost_per_token", base["input_cost_per_token"])
        creation = prices.get("cache_creation_input_token_cost", inp)
        return {
            "input": inp,
            "output": prices.get("output_cost_per_token", base["output_cost_per_token"]),
            "cache_read": prices.get("cache_read_input_token_cost", inp),
            "cache_creation": creation,
            "cache_creation_1h": prices.get("cache_creation_input_token_cost_above_1hr", creation),
        }

    def cost_usd(self, tokens, tier="standard"):
        rates = self.rates(tokens.input, tier)
        if tier == "priority":
            standard = self.rates(tokens.input, "standard")
            rates = {k: max(v, standard[k]) for k, v in rates.items()}
        uncached = max(0, tokens.input - tokens.cached_read - tokens.cache_creation)
        one_hour = min(tokens.cache_creation_1h, tokens.cache_creation)
        usd = (
            uncached * rates["input"]
            + tokens.cached_read * rates["cache_read"]
            + (tokens.cache_creation - one_hour) * rates["cache_creation"]
            + one_hour * rates["cache_creation_1h"]
            + tokens.output * rates["output"]
        )
        return usd if math.isfinite(usd) else 1.7976931348623157e308


def parse_field(name):
    """(base, threshold or None, tier) of a price field's name; None when it is none."""
    for base in BASES:
        if name.startswith(base):
            rest = name[len(base):]
            break
    else:
        return None
    tier = "standard"
    for t, suffix in TIER_SUFFIX.items():
        if rest.endswith(suffix):
            tier, rest = t, rest[: -len(suffix)]
            break
    if not rest:
        return base, None, tier
    m = THRESHOLD.fullmatch(rest)
    if not m:
        return None
    return base, int(m.group(1)) * (1000 if m.group(2) else 1), tier


class PriceTable:
    def __init__(self, entries=None):
        self.entries = entries or {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        if not isinstance(value, dict):
            raise ValueError(f"{path}: a price table must be a JSON object keyed by model name")
        entries = {}
        for key, fields in value.items():
            if key == "sample_spec":
                continue
            if not isinstance(fields, dict):
                raise ValueError(f"{path}: entry {key!r} must be a JSON object")
            try:
                price = ModelPrice(fields)
            except ValueError as e:
                raise ValueError(f"{path}: entry {key!r}: {e}") from None
            if price.valid:
                entries[key] = price
        return cls(entries)

    def with_overrides(self, other):
        return PriceTable({**self.entries, **other.entries})

    def lookup(self, model):
        model = (model or "").strip()
        found = self.lookup_cased(model)
        if found is None and model.lower() != model:
            found = self.lookup_cased(model.lower())
        return found

    def lookup_cased(self, model):
        names = [model] + [model[i + 1:] for i, c in enumerate(model) if c == "/"]
        names = [n for n in names if n]
        for name in names + [d for d in map(strip_date, names) if d]:
            if name in self.entries:
                return self.entries[name]
        return None

    def prices(self):
        return self.entries.values()


def strip_date(name):
    for pattern in DATED:
        m = pattern.match(name)
        if m and 1 <= int(m.group(3)) <= 12 and 1 <= int(m.group(4)) <= 31:
            return m.group(1)
    return None
