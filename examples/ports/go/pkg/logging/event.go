// Package logging is the seed's pkg/logging in Go, standard library only: the v0 event
// envelope and its data structs, the Sink interface, a file-backed JSON Lines sink
// (JSONLWriter) and the Emitter that stamps run metadata on events and dispatches them.
//
// The wire format is encoding/json's: the envelope's fields in struct order, empty optional
// fields omitted, ts in time.RFC3339Nano (UTC, trailing zeros of the fraction dropped), `<`,
// `>` and `&` escaped as \u003c, \u003e and \u0026, float64s in Go's shortest form. The
// golden files in testdata/ are byte for byte the reference's (agentlog's testdata/golden).
package logging

import (
	"encoding/json"
	"fmt"
	"time"
)

// The v0 event types.
const (
	EventLLMRequest   = "llm_request"
	EventLLMResponse  = "llm_response"
	EventBudgetAction = "budget_action"
	EventKeyInjection = "key_injection"
)

// The key_injection actions.
const (
	ActionInjected    = "injected"
	ActionSkipped     = "skipped"
	ActionLeakBlocked = "leak_blocked"
)

// PluginSecretInjector is the plugin of key_injection events.
const PluginSecretInjector = "secret_injector"

// Event is one line of the log: the envelope, with data already encoded.
type Event struct {
	TS          time.Time       `json:"ts"`
	RunID       string          `json:"run_id"`
	AgentSystem string          `json:"agent_system"`
	EventType   string          `json:"event_type"`
	Summary     string          `json:"summary"`
	Plugin      string          `json:"plugin,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// NewEvent builds an event with ts in UTC and data (nil for none) encoded as JSON. The
// error wraps ErrMarshalData.
func NewEvent(ts time.Time, runID, agentSystem, eventType, summary, plugin string, tags []string, data any) (*Event, error) {
	ev := &Event{
		TS:          ts.UTC(),
		RunID:       runID,
		AgentSystem: agentSystem,
		EventType:   eventType,
		Summary:     summary,
		Plugin:      plugin,
		Tags:        tags,
	}
	if data != nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMarshalData, eventType, err)
		}
		ev.Data = raw
	}
	return ev, nil
}

// LLMRequestData is the data of llm_request: an LLM API request, after secret injection,
// before it is forwarded. Routed is always written.
type LLMRequestData struct {
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	Model    string `json:"model,omitempty"`
	Routed   bool   `json:"routed"`
	RoutedTo string `json:"routed_to,omitempty"`
	// agentlog extensions of v0.
	ExchangeID  string   `json:"exchange_id,omitempty"`
	ReservedUSD *float64 `json:"reserved_usd,omitempty"`
}

// Summary is the seed's "<METHOD> <host><path>".
func (d LLMRequestData) Summary() string {
	return fmt.Sprintf("%s %s%s", d.Method, d.Host, d.Path)
}

// LLMResponseData is the data of llm_response: the upstream's response, once its body was
// relayed. The token counts, cost and usage fields are agentlog extensions of v0, written
// only when known (nil pointers are omitted, a known zero is written).
type LLMResponseData struct {
	Method                   string   `json:"method"`
	Host                     string   `json:"host"`
	Path                     string   `json:"path"`
	StatusCode               int      `json:"status_code"`
	DurationMS               int64    `json:"duration_ms"`
	BodyBytes                int64    `json:"body_bytes"`
	Model                    string   `json:"model,omitempty"`
	InputTokens              *int64   `json:"input_tokens,omitempty"`
	OutputTokens             *int64   `json:"output_tokens,omitempty"`
	CachedInputTokens        *int64   `json:"cached_input_tokens,omitempty"`
	CacheCreationInputTokens *int64   `json:"cache_creation_input_tokens,omitempty"`
	ReasoningTokens          *int64   `json:"reasoning_tokens,omitempty"`
	CostUSD                  *float64 `json:"cost_usd,omitempty"`
	CostSource               string   `json:"cost_source,omitempty"`
	ServiceTier              string   `json:"service_tier,omitempty"`
	Usage                    string   `json:"usage,omitempty"`
	ExchangeID               string   `json:"exchange_id,omitempty"`
}

// Summary is the seed's "<METHOD> <host><path> -> <status> (<ms>ms)".
func (d LLMResponseData) Summary() string {
	return fmt.Sprintf("%s %s%s -> %d (%dms)", d.Method, d.Host, d.Path, d.StatusCode, d.DurationMS)
}

// BudgetActionData is the data of budget_action (no emitter in the seed's v0); the numbers
// are omitted when zero.
type BudgetActionData struct {
	Action     string  `json:"action"`
	TokensUsed int64   `json:"tokens_used,omitempty"`
	CostUSD    float64 `json:"cost_usd,omitempty"`
	Remaining  float64 `json:"remaining,omitempty"`
	ExchangeID string  `json:"exchange_id,omitempty"`
}

// Summary is "budget <action>".
func (d BudgetActionData) Summary() string {
	return "budget " + d.Action
}

// KeyInjectionData is the data of key_injection: one per secret per request. It names the
// secret, never its value.
type KeyInjectionData struct {
	SecretName string `json:"secret_name"`
	Host       string `json:"host"`
	Action     string `json:"action"`
	ExchangeID string `json:"exchange_id,omitempty"`
}

// Summary is `secret "<NAME>" injected for <host>` (skipped for, leak blocked for).
func (d KeyInjectionData) Summary() string {
	verb := d.Action
	if d.Action == ActionLeakBlocked {
		verb = "leak blocked"
	}
	return fmt.Sprintf("secret %q %s for %s", d.SecretName, verb, d.Host)
}
