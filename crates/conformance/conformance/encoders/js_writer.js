// Writes the events of events.json as JavaScript's JSON.stringify writes them: no
// whitespace, keys in object-literal order, non-ASCII characters as UTF-8 (U+2028 too),
// only `"`, `\` and control characters escaped, numbers as Number#toString writes them
// (`1e-7`, `2e+21`); `ts` from Date#toISOString(): milliseconds, always three digits, `Z`.
// Optional fields that are undefined are left out by JSON.stringify itself.
//
// Usage: node js_writer.js events.json v0|v1 > ../logs/encoder_js_v0.jsonl
"use strict";

const fs = require("fs");

// The nanosecond instant of events.json as a Date (milliseconds, truncated).
function timestamp(text) {
  const [date, fraction] = text.replace(/Z$/, "").split(".");
  return new Date(Date.parse(date + "Z") + Number(fraction.slice(0, 3)));
}

const source = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
for (const e of source[process.argv[3]]) {
  const event = {
    ts: timestamp(e.ts).toISOString(),
    run_id: source.run_id,
    agent_system: source.agent_system,
    event_type: e.event_type,
    summary: e.summary,
    data: e.data,
    tags: e.tags,
    plugin: e.plugin,
  };
  process.stdout.write(JSON.stringify(event) + "\n");
}
