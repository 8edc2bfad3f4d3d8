// ajv's side of the validator benchmarks (validate_compare.sh, validate_paired.sh): every
// line of a JSON-Lines file against one bundled schema; prints the count of invalid lines.
// Usage (from the repository root): node benches/ajv_loop.js BUNDLE.json FILE.jsonl
const Ajv = require(process.cwd() + "/benches/node_modules/ajv/dist/2020").default;
const addFormats = require(process.cwd() + "/benches/node_modules/ajv-formats");
const fs = require("fs"), readline = require("readline");
const ajv = new Ajv({ strict: false }); addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
let bad = 0;
readline.createInterface({ input: fs.createReadStream(process.argv[3]) })
  .on("line", (l) => { if (!validate(JSON.parse(l))) bad++; })
  .on("close", () => console.log(bad));
