package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func emitScenario(t *testing.T, scenario string, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	sc := filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(sc, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "events.jsonl")
	var stderr bytes.Buffer
	code := run(append(args, sc, log), &stderr)
	written, _ := os.ReadFile(log)
	return code, string(written), stderr.String()
}

const oneRequest = `{"secrets": ["K=v@api.openai.com"], "placeholders": {"K": "SANDBOX_SECRET_00000000000000000000000000000000"},
 "requests": [{"method": "GET", "url": "https://api.openai.com/v1/${K}/models?x=1", "expect_status": 403, "expect_body": "no"}],
 "expect_events": [%s]}`

func scenarioWith(events string) string {
	return strings.Replace(oneRequest, "%s", events, 1)
}

func TestFillsFromTheRequest(t *testing.T) {
	code, log, stderr := emitScenario(t, scenarioWith(`{"event_type": "key_injection", "data": {"action": "leak_blocked"}},
		{"event_type": "llm_response", "data": {}}`), "--run-id", "vm-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`"summary":"secret \"K\" leak blocked for api.openai.com","plugin":"secret_injector","tags":["tls"],"data":{"secret_name":"K","host":"api.openai.com","action":"leak_blocked","exchange_id":"vm-1-1"}}`,
		`"data":{"method":"GET","host":"api.openai.com","path":"/v1/SANDBOX_SECRET_00000000000000000000000000000000/models","status_code":403,"duration_ms":0,"body_bytes":2,"exchange_id":"vm-1-1"}}`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %s in\n%s", want, log)
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name, scenario string
		code           int
		says           string
	}{
		{"unknown data key", scenarioWith(`{"event_type": "key_injection", "data": {"action": "injected", "hots": "x"}}`), 1, "unknown field"},
		{"unknown type", scenarioWith(`{"event_type": "gate_decision", "data": {}}`), 1, "not a v0 event type"},
		{"no action", scenarioWith(`{"event_type": "budget_action", "data": {}}`), 1, "no action"},
		{"v1", `{"profile": "v1", "requests": [], "expect_events": []}`, 2, "v0 profile only"},
		{"routes", `{"routes": ["a=b"], "requests": [], "expect_events": []}`, 2, "v0 profile only"},
		{"events do not add up", `{"requests": [{"method": "GET", "url": "https://a/", "events": 1}, {"method": "GET", "url": "https://a/", "events": 1}],
			"expect_events": [{"event_type": "llm_request"}]}`, 1, "add up to 2"},
		{"not JSON", `{`, 2, "scenario.json"},
	} {
		code, _, stderr := emitScenario(t, c.scenario)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", c.name, code, stderr, c.code, c.says)
		}
	}
}
