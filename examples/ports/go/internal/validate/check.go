// Package validate is a v0 validator for agentlog event logs: the line, JSON, envelope,
// data, cross-line and secret rules of the reference (`agentlog validate --profile v0`),
// with its rule ids, severities and JSON pointers.
//
// Scope: the v0 profile. Under --profile auto (the default) a file is v0 unless it holds a
// v1-only event type or its first JSON object is a tool-call ledger record: those, and
// --profile v1 or ledger, are refused with ErrUnsupported (the command exits 2).
package validate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrUnsupported: the input or the options are outside this port's profile.
var ErrUnsupported = errors.New("unsupported")

// Finding is one problem on one line (0: the whole input).
type Finding struct {
	Line     int     `json:"line"`
	Rule     string  `json:"rule"`
	Severity string  `json:"severity"`
	Pointer  *string `json:"pointer,omitempty"`
	Message  string  `json:"message"`
}

// Options are the validator's flags.
type Options struct {
	// Auto: --profile auto (else v0 was given).
	Auto         bool
	UnknownsWarn bool
	AllowEmpty   bool
	Scanner      Scanner
}

// Report is one file's result.
type Report struct {
	Path     string    `json:"path"`
	Lines    int       `json:"lines"`
	Events   int       `json:"events"`
	Profile  string    `json:"profile"`
	Findings []Finding `json:"findings"`
}

var (
	v0Types     = []string{"llm_request", "llm_response", "budget_action", "key_injection"}
	v1OnlyTypes = []string{"http_request", "http_response", "gate_decision", "route_decision", "request_transform", "response_transform"}
	required    = []string{"ts", "run_id", "agent_system", "event_type", "summary"}
	optional    = []string{"plugin", "tags", "data"}
	ledgerKeys  = []string{"tool", "result_status", "args_hash"}
)

type state struct {
	opts     *Options
	report   *Report
	lastTS   *instant
	runIDs   []string
	family   string // "" until the first object; "events"
	pairing  pairing
	findings []Finding
}

func ptr(s string) *string { return &s }

func (st *state) add(line int, rule, severity string, pointer *string, message string) {
	st.findings = append(st.findings, Finding{line, rule, severity, pointer, message})
}

func (st *state) errorAt(line int, rule string, pointer *string, message string) {
	st.add(line, rule, "error", pointer, message)
}

// CheckFile checks data, the bytes of one file.
func CheckFile(path string, data []byte, opts *Options) (*Report, error) {
	st := &state{opts: opts, report: &Report{Path: path, Profile: "v0"}}
	pieces := bytes.Split(data, []byte("\n"))
	last := pieces[len(pieces)-1]
	pieces = pieces[:len(pieces)-1]
	torn := len(last) > 0
	if torn {
		pieces = append(pieces, last)
	}
	for i, raw := range pieces {
		if err := st.line(i+1, raw); err != nil {
			return nil, err
		}
	}
	n := len(pieces)
	if torn {
		st.errorAt(n, "line.torn", nil, "last line has no terminating newline")
	}
	st.pairing.finish(st)
	st.report.Lines = n
	if st.report.Events == 0 && !opts.AllowEmpty {
		st.errorAt(0, "input.empty", nil, "no events in this input")
	}
	st.report.Findings = st.findings
	if st.report.Findings == nil {
		st.report.Findings = []Finding{}
	}
	return st.report, nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if !strings.ContainsRune(" \t\n\f\r", rune(c)) {
			return false
		}
	}
	return true
}

func (st *state) line(n int, body []byte) error {
	if rest, ok := cut(body, "", "\r"); ok {
		st.errorAt(n, "line.crlf", nil, "line ends with CR LF; use a bare LF")
		body = rest
	}
	if rest, ok := cut(body, "\xEF\xBB\xBF", ""); ok {
		st.errorAt(n, "line.bom", nil, "line starts with a UTF-8 byte order mark")
		body = rest
	}
	if isBlank(body) {
		st.errorAt(n, "line.blank", nil, "blank line; every line must be one event")
		return nil
	}
	var value *Value
	if !utf8.Valid(body) {
		st.errorAt(n, "line.utf8", nil, "invalid UTF-8")
	} else {
		var err error
		if value, err = st.json(n, string(body)); err != nil {
			return err
		}
	}
	st.secrets(n, body, value)
	return nil
}

func cut(b []byte, prefix, suffix string) ([]byte, bool) {
	if prefix != "" && bytes.HasPrefix(b, []byte(prefix)) {
		return b[len(prefix):], true
	}
	if suffix != "" && bytes.HasSuffix(b, []byte(suffix)) {
		return b[:len(b)-len(suffix)], true
	}
	return b, false
}

func hasAny(v *Value, keys []string) bool {
	for _, k := range keys {
		if v.Get(k) != nil {
			return true
		}
	}
	return false
}

// json checks one UTF-8 line; it returns the value when the line is strict JSON (what the
// reference's parser accepts), for the secret rules' pointers.
func (st *state) json(n int, text string) (*Value, error) {
	parsed, err := Parse(text)
	if err != nil {
		if parsed.DepthBeforeError {
			st.errorAt(n, "json.depth", nil, fmt.Sprintf("nested deeper than %d arrays/objects", MaxDepth))
		} else {
			st.errorAt(n, "json.syntax", nil, "not valid JSON")
		}
		return nil, nil
	}
	v := parsed.Value
	if v.Kind != Object {
		if parsed.Depth > MaxDepth {
			st.errorAt(n, "json.depth", nil, fmt.Sprintf("nested deeper than %d arrays/objects", MaxDepth))
			return nil, nil
		}
		if len(parsed.Lone) > 0 {
			st.errorAt(n, "json.syntax", nil, "not valid JSON: a lone surrogate escape")
			return nil, nil
		}
		st.errorAt(n, "json.not_object", ptr(""), "expected a JSON object")
		return v, nil
	}
	ledger := !hasAny(v, []string{"run_id", "agent_system"}) && hasAny(v, ledgerKeys)
	if st.family == "" {
		if ledger && st.opts.Auto {
			return nil, fmt.Errorf("%w: line %d is a tool-call ledger record; this port checks v0 event logs", ErrUnsupported, n)
		}
		st.family = "events"
	}
	if ledger && st.opts.Auto && len(parsed.Lone) == 0 && !parsed.KeyLone && parsed.Depth <= MaxDepth {
		st.report.Events++
		for range parsed.Duplicates {
			st.errorAt(n, "json.duplicate_key", ptr(""), "a key repeats")
		}
		st.errorAt(n, "profile.mixed", ptr(""), "a tool-call ledger record in a sandbox event log; not checked further")
		return v, nil
	}
	if st.opts.Auto {
		if et := v.Get("event_type"); et != nil && et.Kind == String && in(et.Str, v1OnlyTypes) {
			return nil, fmt.Errorf("%w: line %d has a v1 event type; this port checks v0 only", ErrUnsupported, n)
		}
	}
	var line []Finding
	st.findings, line = nil, st.findings
	for _, d := range parsed.Duplicates {
		st.errorAt(n, "json.duplicate_key", st.pointer(d), "key repeats an earlier key of the same object")
	}
	facts := st.envelope(n, v)
	schema := st.findings
	st.findings = line
	// The reference's fast path takes a conformant line whole: its nesting and the lone
	// surrogates of strings it does not read are not checked there.
	conformant := len(schema) == 0 && !parsed.KeyLone && lonesIgnored(v, parsed.Lone)
	if !conformant && parsed.Depth > MaxDepth {
		st.errorAt(n, "json.depth", nil, fmt.Sprintf("nested deeper than %d arrays/objects", MaxDepth))
		return nil, nil
	}
	if !conformant && len(parsed.Lone)+boolInt(parsed.KeyLone) > 0 {
		st.errorAt(n, "json.syntax", nil, "not valid JSON: a lone surrogate escape")
		return nil, nil
	}
	st.report.Events++
	st.findings = append(st.findings, schema...)
	st.crossLine(n, facts)
	if parsed.Depth > MaxDepth || len(parsed.Lone) > 0 {
		return nil, nil
	}
	return v, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lonesIgnored: every lone surrogate is in a string the fast path skips (an extension
// field of data, or data of a type it does not type).
func lonesIgnored(v *Value, lone [][]string) bool {
	et := v.Get("event_type")
	for _, path := range lone {
		if len(path) < 2 || path[0] != "data" {
			return false
		}
		if et != nil && et.Kind == String {
			if schema, ok := dataSchemas[et.Str]; ok {
				if _, known := schema.field(path[1]); known {
					return false
				}
			}
		}
	}
	return true
}

func in(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pointer: path as a JSON pointer, cut before the first token that holds a secret.
func (st *state) pointer(path []string) *string {
	for i, t := range path {
		if st.opts.Scanner.Leaks(t) {
			return ptr(Pointer(path[:i]))
		}
	}
	return ptr(Pointer(path))
}

// facts: what the cross-line rules need from one event.
type facts struct {
	ts         *instant
	runID      string
	eventType  string
	exchangeID string
}

func nonEmpty(v *Value) string {
	if v != nil && v.Kind == String {
		return v.Str
	}
	return ""
}

func (st *state) envelope(n int, v *Value) facts {
	for _, k := range v.Keys {
		if !in(k, required) && !in(k, optional) {
			st.errorAt(n, "envelope.unknown_field", st.pointer([]string{k}), "field is not an envelope field (the envelope is closed; extensions go in data)")
		}
	}
	for _, k := range append(append([]string(nil), required...), "plugin") {
		f := v.Get(k)
		switch {
		case f == nil && k != "plugin":
			st.errorAt(n, "envelope.missing", ptr("/"+k), fmt.Sprintf("required field `%s` is missing", k))
		case f == nil:
		case f.Kind != String:
			st.errorAt(n, "envelope.type", ptr("/"+k), `value is not of type "string"`)
		case f.Str == "":
			st.errorAt(n, "envelope.empty", ptr("/"+k), "must not be empty")
		}
	}
	if tags := v.Get("tags"); tags != nil {
		if tags.Kind != Array {
			st.errorAt(n, "envelope.type", ptr("/tags"), `value is not of type "array"`)
		}
		for i, t := range tags.Items {
			at := ptr(fmt.Sprintf("/tags/%d", i))
			if t.Kind != String {
				st.errorAt(n, "envelope.type", at, `value is not of type "string"`)
			} else if t.Str == "" {
				st.errorAt(n, "envelope.empty", at, "must not be empty")
			}
		}
	}
	data := v.Get("data")
	if data != nil && data.Kind != Object {
		st.errorAt(n, "envelope.type", ptr("/data"), `value is not of type "object"`)
	}
	f := facts{runID: nonEmpty(v.Get("run_id")), eventType: nonEmpty(v.Get("event_type")), exchangeID: nonEmpty(data.Get("exchange_id"))}
	if schema, ok := dataSchemas[f.eventType]; ok && data != nil && data.Kind == Object {
		st.data(n, schema, data)
	}
	if ts := nonEmpty(v.Get("ts")); ts != "" {
		if at, ok := parseTS(ts); ok {
			f.ts = &at
		} else {
			st.errorAt(n, "ts.format", ptr("/ts"), "ts is not an RFC 3339 date-time with offset")
		}
	}
	return f
}

func (st *state) crossLine(n int, f facts) {
	if f.ts != nil {
		if st.lastTS != nil && f.ts.before(*st.lastTS) {
			st.add(n, "ts.backwards", "warning", ptr("/ts"), "ts is earlier than the previous event's ts")
		}
		st.lastTS = f.ts
	}
	if f.runID != "" && !in(f.runID, st.runIDs) {
		if len(st.runIDs) > 0 {
			st.add(n, "run_id.multiple", "warning", ptr("/run_id"), "a second run_id in this file")
		}
		st.runIDs = append(st.runIDs, f.runID)
	}
	if f.eventType == "" {
		return
	}
	if f.exchangeID != "" {
		st.pairing.see(st, n, f.eventType, f.exchangeID)
	}
	if !in(f.eventType, v0Types) {
		severity := "error"
		if st.opts.UnknownsWarn {
			severity = "warning"
		}
		st.add(n, "event_type.unknown", severity, ptr("/event_type"), "event_type is not defined by profile v0")
	}
}

func (st *state) secrets(n int, body []byte, value *Value) {
	sc := &st.opts.Scanner
	hits := sc.Scan(body)
	if hits.Incomplete != "" {
		st.add(n, "secret.scan_incomplete", "warning", nil, fmt.Sprintf("secret scan incomplete: the depth limit (%d layers) was reached at %s", DecodeDepth, hits.Incomplete))
	}
	if len(hits.Secrets) == 0 && len(hits.Kinds) == 0 {
		return
	}
	secretAt := make([]*string, len(hits.Secrets))
	kindAt := make([]*string, len(hits.Kinds))
	if value != nil {
		walkStrings(value, nil, func(text string, path []string) bool {
			h := sc.Scan([]byte(text))
			done := true
			for i, s := range hits.Secrets {
				if secretAt[i] == nil && inInt(s, h.Secrets) {
					secretAt[i] = st.pointer(path)
				}
				done = done && secretAt[i] != nil
			}
			for i, k := range hits.Kinds {
				if kindAt[i] == nil && in(k, h.Kinds) {
					kindAt[i] = st.pointer(path)
				}
				done = done && kindAt[i] != nil
			}
			return done
		})
	}
	for i, s := range hits.Secrets {
		st.errorAt(n, "secret.value", secretAt[i], fmt.Sprintf("value of secret %s found; value redacted", sc.Secrets[s].Name))
	}
	for i, k := range hits.Kinds {
		st.errorAt(n, "secret.pattern", kindAt[i], k+" found; value redacted")
	}
}

func inInt(x int, list []int) bool {
	for _, y := range list {
		if x == y {
			return true
		}
	}
	return false
}

// walkStrings visits every key (with its object's path) and string in document order until
// visit says it is done.
func walkStrings(v *Value, path []string, visit func(string, []string) bool) bool {
	switch v.Kind {
	case String:
		return visit(v.Str, path)
	case Array:
		for i, item := range v.Items {
			if walkStrings(item, append(path, fmt.Sprint(i)), visit) {
				return true
			}
		}
	case Object:
		for i, k := range v.Keys {
			if visit(k, path) || walkStrings(v.Vals[i], append(path, k), visit) {
				return true
			}
		}
	}
	return false
}
