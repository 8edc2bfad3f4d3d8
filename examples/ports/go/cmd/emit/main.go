// Command emit writes the events an interceptor scenario expects (agentlog's
// conformance/scenarios/*.json, `expect_events`) through the port's Emitter and JSONLWriter:
// the writer half of a port, checked without a proxy.
//
// Usage: emit [--run-id ID] [--agent-system NAME] SCENARIO LOG
//
// A scenario gives each event's type and part of its data (the harness compares `data` as a
// subset); the rest is filled in as a proxy that served the scenario's requests would:
//
//   - each event belongs to a request: `events` of them per request in order (a lone request
//     writes them all); method, host and path (without the query, `${NAME}` expanded to the
//     secret's placeholder) come from its URL, tags from its scheme (`tls` for https, `http`
//     for http), status_code from its expect_status, body_bytes from the length of its
//     expect_body (0 without), the llm_request's model from its JSON body's "model";
//   - a key_injection without secret_name names the scenario's first secret;
//   - what varies between runs and the harness never compares: ts (the Emitter's clock),
//     run_id and agent_system (the flags; `vm-00000000` and `agentlog-go-emit` by default),
//     duration_ms (0) and exchange_id (RUN_ID-N for the Nth request, on every event of it);
//   - summary and plugin are the package's own (Emit* methods; budget_action's plugin
//     `budget_gate`), never copied from the scenario, so the caller can compare them.
//
// Every data key the scenario gives is decoded into the package's data struct of the type
// (an unknown key is an error: it would be dropped). Only the v0 profile is written: a
// scenario with `profile: v1` (or v1-only options: allow_hosts, routes) is refused with
// exit 2 and a message on stderr. Exit 0 when every event was written, 1 when the scenario
// cannot be written (an unknown event type or data key, too few requests' events), 2 on a
// usage error or an unreadable scenario. It never reads or prints a secret value: only the
// secrets' names and placeholders are used.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"agentlog.example/goport/pkg/logging"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// errUsage and errUnsupported mark the errors that exit 2.
var (
	errUsage       = errors.New("usage")
	errUnsupported = errors.New("unsupported")
)

type scenario struct {
	Profile      string            `json:"profile"`
	Secrets      []string          `json:"secrets"`
	Placeholders map[string]string `json:"placeholders"`
	AllowHosts   []string          `json:"allow_hosts"`
	Routes       []string          `json:"routes"`
	Requests     []request         `json:"requests"`
	ExpectEvents []expected        `json:"expect_events"`
}

type request struct {
	Method       string          `json:"method"`
	URL          string          `json:"url"`
	Body         json.RawMessage `json:"body"`
	ExpectStatus int             `json:"expect_status"`
	ExpectBody   *string         `json:"expect_body"`
	Events       *int            `json:"events"`
}

type expected struct {
	EventType string          `json:"event_type"`
	Data      json.RawMessage `json:"data"`
}

func run(args []string, stderr io.Writer) int {
	if err := emit(args); err != nil {
		fmt.Fprintf(stderr, "emit: %v\n", err)
		if errors.Is(err, errUsage) || errors.Is(err, errUnsupported) {
			return 2
		}
		return 1
	}
	return 0
}

func emit(args []string) error {
	meta := logging.Metadata{RunID: "vm-00000000", AgentSystem: "agentlog-go-emit"}
	var paths []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--run-id", "--agent-system":
			if i+1 >= len(args) || args[i+1] == "" {
				return fmt.Errorf("%w: %s needs a non-empty value", errUsage, a)
			}
			i++
			if a == "--run-id" {
				meta.RunID = args[i]
			} else {
				meta.AgentSystem = args[i]
			}
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return fmt.Errorf("%w: unknown option %s", errUsage, a)
			}
			paths = append(paths, a)
		}
	}
	if len(paths) != 2 {
		return fmt.Errorf("%w: emit [--run-id ID] [--agent-system NAME] SCENARIO LOG", errUsage)
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var sc scenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, paths[0], err)
	}
	if sc.Profile != "" && sc.Profile != "v0" || len(sc.AllowHosts) > 0 || len(sc.Routes) > 0 {
		return fmt.Errorf("%w: %s is a v1 scenario: this port writes the v0 profile only", errUnsupported, paths[0])
	}
	owners, err := owners(&sc)
	if err != nil {
		return err
	}
	w, err := logging.NewJSONLWriter(paths[1])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	em, err := logging.NewEmitter(meta, w)
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	for i, ev := range sc.ExpectEvents {
		if err := write(em, &sc, owners[i], meta.RunID, i, ev); err != nil {
			_ = em.Close()
			return err
		}
	}
	return em.Close()
}

// owners gives, per expected event, the index of the request that writes it.
func owners(sc *scenario) ([]int, error) {
	n := len(sc.ExpectEvents)
	if len(sc.Requests) == 0 {
		return nil, errors.New("the scenario sends no request")
	}
	if len(sc.Requests) == 1 && sc.Requests[0].Events == nil {
		return make([]int, n), nil
	}
	var out []int
	for r, req := range sc.Requests {
		if req.Events == nil {
			return nil, fmt.Errorf("request %d: no `events` (required with several requests)", r)
		}
		for k := 0; k < *req.Events; k++ {
			out = append(out, r)
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("the requests' `events` add up to %d, expect_events has %d", len(out), n)
	}
	return out, nil
}

// expand replaces ${NAME} by the placeholder of secret NAME.
func expand(sc *scenario, s string) string {
	for name, ph := range sc.Placeholders {
		s = strings.ReplaceAll(s, "${"+name+"}", ph)
	}
	return s
}

// decode reads the expected data into v, refusing a key v has none for, and returns the
// keys given.
func decode(data json.RawMessage, v any) (map[string]bool, error) {
	given := map[string]bool{}
	if len(data) == 0 {
		return given, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, err
	}
	for k := range keys {
		given[k] = true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	return given, nil
}

func write(em *logging.Emitter, sc *scenario, r int, runID string, i int, ev expected) error {
	req := sc.Requests[r]
	u, err := url.Parse(expand(sc, req.URL))
	if err != nil {
		return fmt.Errorf("request %d: %v", r, err)
	}
	tags := []string{"tls"}
	if u.Scheme == "http" {
		tags = []string{"http"}
	}
	exchange := fmt.Sprintf("%s-%d", runID, r+1)
	fail := func(err error) error {
		return fmt.Errorf("event %d (%s): %v", i, ev.EventType, err)
	}
	switch ev.EventType {
	case logging.EventKeyInjection:
		var d logging.KeyInjectionData
		given, err := decode(ev.Data, &d)
		if err != nil {
			return fail(err)
		}
		if !given["secret_name"] {
			if len(sc.Secrets) == 0 {
				return fail(errors.New("no secret_name and the scenario has no secret"))
			}
			d.SecretName, _, _ = strings.Cut(sc.Secrets[0], "=")
		}
		if !given["host"] {
			d.Host = u.Hostname()
		}
		if d.Action == "" {
			return fail(errors.New("no action"))
		}
		d.ExchangeID = exchange
		return em.EmitKeyInjection(tags, d)
	case logging.EventLLMRequest:
		var d logging.LLMRequestData
		given, err := decode(ev.Data, &d)
		if err != nil {
			return fail(err)
		}
		fill(given, &d.Method, &d.Host, &d.Path, req.Method, u)
		if !given["model"] && len(req.Body) > 0 {
			var body struct {
				Model string `json:"model"`
			}
			_ = json.Unmarshal(req.Body, &body)
			d.Model = body.Model
		}
		d.ExchangeID = exchange
		return em.EmitLLMRequest(tags, d)
	case logging.EventLLMResponse:
		var d logging.LLMResponseData
		given, err := decode(ev.Data, &d)
		if err != nil {
			return fail(err)
		}
		fill(given, &d.Method, &d.Host, &d.Path, req.Method, u)
		if !given["status_code"] {
			d.StatusCode = req.ExpectStatus
		}
		if !given["body_bytes"] && req.ExpectBody != nil {
			d.BodyBytes = int64(len(*req.ExpectBody))
		}
		d.ExchangeID = exchange
		return em.EmitLLMResponse(tags, d)
	case logging.EventBudgetAction:
		var d logging.BudgetActionData
		if _, err := decode(ev.Data, &d); err != nil {
			return fail(err)
		}
		if d.Action == "" {
			return fail(errors.New("no action"))
		}
		d.ExchangeID = exchange
		return em.EmitBudgetAction("budget_gate", nil, d)
	default:
		return fail(errors.New("not a v0 event type"))
	}
}

// fill sets method, host and path from the request where the scenario gives none.
func fill(given map[string]bool, method, host, path *string, reqMethod string, u *url.URL) {
	if !given["method"] {
		*method = reqMethod
	}
	if !given["host"] {
		*host = u.Hostname()
	}
	if !given["path"] {
		*path = u.EscapedPath()
	}
}
