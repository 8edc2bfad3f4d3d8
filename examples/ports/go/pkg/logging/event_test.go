package logging

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func ts(t *testing.T, text string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }
func must(ev *Event, err error) func(*testing.T) *Event {
	return func(t *testing.T) *Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
}

// goldenEvent is one golden file: the same event as agentlog's snapshot of that name
// (testdata/golden/NAME.snap in agentlog, crates/core/tests/core_golden.rs).
type goldenEvent struct {
	name, ts, runID, agent, summary, plugin string
	tags                                    []string
	eventType                               string
	data                                    any
}

const (
	vm  = "vm-503ad4d1"
	oc  = "openclaw"
	xid = "187b1f0c2a4d9e00-7"
)

func goldenEvents() []goldenEvent {
	reqFull := LLMRequestData{Method: "POST", Host: "openrouter.ai", Path: "/v1/chat/completions",
		Model: "google/gemini-2.0-flash-001", Routed: true, RoutedTo: "192.168.86.246:11434",
		ExchangeID: xid, ReservedUSD: f64(0.0125)}
	reqMin := LLMRequestData{Method: "GET", Host: "api.openai.com", Path: "/v1/models"}
	respFull := LLMResponseData{Method: "POST", Host: "api.anthropic.com", Path: "/v1/messages",
		StatusCode: 200, DurationMS: 1432, BodyBytes: 2817, Model: "claude-sonnet-4-5",
		InputTokens: i64(42), OutputTokens: i64(311), CachedInputTokens: i64(8),
		CacheCreationInputTokens: i64(4), ReasoningTokens: i64(100), CostUSD: f64(0.004821),
		CostSource: "price_table", ServiceTier: "priority", Usage: "partial", ExchangeID: xid}
	respMin := LLMResponseData{Method: "POST", Host: "api.openai.com", Path: "/v1/chat/completions", StatusCode: 502}
	budgetFull := BudgetActionData{Action: "warn", TokensUsed: 12000, CostUSD: 0.42, Remaining: 9.58, ExchangeID: xid}
	budgetMin := BudgetActionData{Action: "block"}
	integral := BudgetActionData{Action: "warn", TokensUsed: 1, CostUSD: 2, Remaining: 1e16}
	tiny := BudgetActionData{Action: "block", CostUSD: 0.000001, Remaining: -1.5e-7}
	huge := BudgetActionData{Action: "block", CostUSD: 1e21, Remaining: -123456789.5}
	keyFull := KeyInjectionData{SecretName: "ANTHROPIC_API_KEY", Host: "api.anthropic.com", Action: ActionLeakBlocked, ExchangeID: xid}
	keyMin := KeyInjectionData{SecretName: "K", Host: "h", Action: ActionSkipped}
	goRef := LLMRequestData{Method: "POST", Host: "api.anthropic.com", Path: "/v1/messages"}
	tls := []string{"tls"}
	return []goldenEvent{
		{"llm_request_full", "2026-02-24T23:03:15.060999Z", vm, oc, reqFull.Summary(), "", tls, EventLLMRequest, reqFull},
		{"llm_request_minimal", "2026-02-24T23:03:15Z", vm, oc, reqMin.Summary(), "", nil, EventLLMRequest, reqMin},
		{"llm_response_full", "2026-02-24T23:03:16.5Z", vm, oc, respFull.Summary(), "", tls, EventLLMResponse, respFull},
		{"llm_response_minimal", "2026-02-24T23:03:16Z", vm, oc, respMin.Summary(), "", nil, EventLLMResponse, respMin},
		{"budget_action_full", "2026-02-24T23:04:00.000001Z", vm, oc, budgetFull.Summary(), "budget", nil, EventBudgetAction, budgetFull},
		{"budget_action_minimal", "2026-02-24T23:04:00Z", vm, oc, budgetMin.Summary(), "", nil, EventBudgetAction, budgetMin},
		{"budget_action_go_integral", "2026-02-24T23:04:00Z", vm, oc, integral.Summary(), "", nil, EventBudgetAction, integral},
		{"budget_action_go_tiny", "2026-02-24T23:04:01Z", vm, oc, tiny.Summary(), "", nil, EventBudgetAction, tiny},
		{"budget_action_go_huge", "2026-02-24T23:04:02Z", vm, oc, huge.Summary(), "", nil, EventBudgetAction, huge},
		{"key_injection_full", "2026-02-24T23:03:15.06098Z", vm, oc, keyFull.Summary(), PluginSecretInjector, tls, EventKeyInjection, keyFull},
		{"key_injection_minimal", "2026-02-24T23:03:15Z", "r", "a", keyMin.Summary(), "", nil, EventKeyInjection, keyMin},
		{"go_reference_bytes", "2026-02-24T23:03:10.787520000Z", vm, oc, goRef.Summary() + " -> local", "", nil, EventLLMRequest, goRef},
	}
}

// Every golden event, written by a JSONLWriter, is its golden file byte for byte (with
// -update: rewrites them).
func TestGoldenFiles(t *testing.T) {
	for _, g := range goldenEvents() {
		t.Run(g.name, func(t *testing.T) {
			ev := must(NewEvent(ts(t, g.ts), g.runID, g.agent, g.eventType, g.summary, g.plugin, g.tags, g.data))(t)
			path := filepath.Join(t.TempDir(), "events.jsonl")
			w, err := NewJSONLWriter(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", g.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", g.name, got, want)
			}
		})
	}
}

// Every golden file has exactly the golden events (no stray file).
func TestNoStrayGoldenFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(goldenEvents()) {
		t.Errorf("%d golden files, %d golden events", len(files), len(goldenEvents()))
	}
}

func TestEncodingConventions(t *testing.T) {
	ev := must(NewEvent(ts(t, "2026-02-24T23:03:10.5+02:00"), "r", "a", EventLLMRequest, "<a> & \u2028", "", nil, LLMRequestData{Method: "GET", Host: "h", Path: "/"}))(t)
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ts":"2026-02-24T21:03:10.5Z","run_id":"r","agent_system":"a","event_type":"llm_request","summary":"\u003ca\u003e \u0026 \u2028","data":{"method":"GET","host":"h","path":"/","routed":false}}`
	if string(raw) != want {
		t.Errorf("got  %s\nwant %s", raw, want)
	}
}

func TestSummaries(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{LLMRequestData{Method: "POST", Host: "api.anthropic.com", Path: "/v1/messages"}.Summary(), "POST api.anthropic.com/v1/messages"},
		{LLMResponseData{Method: "POST", Host: "h", Path: "/p", StatusCode: 200, DurationMS: 12}.Summary(), "POST h/p -> 200 (12ms)"},
		{KeyInjectionData{SecretName: "K", Host: "h", Action: ActionInjected}.Summary(), `secret "K" injected for h`},
		{KeyInjectionData{SecretName: "K", Host: "h", Action: ActionLeakBlocked}.Summary(), `secret "K" leak blocked for h`},
		{KeyInjectionData{SecretName: "K\"é", Host: "h", Action: ActionSkipped}.Summary(), `secret "K\"é" skipped for h`},
		{BudgetActionData{Action: "warn"}.Summary(), "budget warn"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestMarshalDataError(t *testing.T) {
	_, err := NewEvent(time.Now(), "r", "a", EventBudgetAction, "s", "", nil, BudgetActionData{Action: "x", CostUSD: nan()})
	if err == nil || !errorsIs(err, ErrMarshalData) {
		t.Fatalf("want ErrMarshalData, got %v", err)
	}
}
