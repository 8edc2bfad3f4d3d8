package logging

import (
	"fmt"
	"time"
)

// Metadata is what an Emitter stamps on every event.
type Metadata struct {
	RunID       string
	AgentSystem string
}

// Emitter stamps ts (UTC now), run_id and agent_system on events and writes them to its
// sinks, in order, stopping at the first that fails.
type Emitter struct {
	meta  Metadata
	sinks []Sink
	now   func() time.Time
}

// NewEmitter needs a non-empty run id and agent system (the error wraps ErrEmptyMetadata).
func NewEmitter(meta Metadata, sinks ...Sink) (*Emitter, error) {
	if meta.RunID == "" {
		return nil, fmt.Errorf("%w: run_id", ErrEmptyMetadata)
	}
	if meta.AgentSystem == "" {
		return nil, fmt.Errorf("%w: agent_system", ErrEmptyMetadata)
	}
	return &Emitter{meta: meta, sinks: sinks, now: time.Now}, nil
}

// SetClock replaces the clock that stamps ts (tests, replays).
func (e *Emitter) SetClock(now func() time.Time) {
	e.now = now
}

// Emit builds the event (data nil for none) and writes it to every sink. A nil Emitter
// emits nothing: event logging is opt-in.
func (e *Emitter) Emit(eventType, summary, plugin string, tags []string, data any) error {
	if e == nil {
		return nil
	}
	ev, err := NewEvent(e.now(), e.meta.RunID, e.meta.AgentSystem, eventType, summary, plugin, tags, data)
	if err != nil {
		return err
	}
	for _, s := range e.sinks {
		if err := s.Write(ev); err != nil {
			return err
		}
	}
	return nil
}

// EmitLLMRequest emits llm_request with the seed's summary.
func (e *Emitter) EmitLLMRequest(tags []string, d LLMRequestData) error {
	return e.Emit(EventLLMRequest, d.Summary(), "", tags, d)
}

// EmitLLMResponse emits llm_response with the seed's summary.
func (e *Emitter) EmitLLMResponse(tags []string, d LLMResponseData) error {
	return e.Emit(EventLLMResponse, d.Summary(), "", tags, d)
}

// EmitKeyInjection emits key_injection, plugin secret_injector.
func (e *Emitter) EmitKeyInjection(tags []string, d KeyInjectionData) error {
	return e.Emit(EventKeyInjection, d.Summary(), PluginSecretInjector, tags, d)
}

// EmitBudgetAction emits budget_action.
func (e *Emitter) EmitBudgetAction(plugin string, tags []string, d BudgetActionData) error {
	return e.Emit(EventBudgetAction, d.Summary(), plugin, tags, d)
}

// Close closes every sink and returns the first error.
func (e *Emitter) Close() error {
	if e == nil {
		return nil
	}
	var first error
	for _, s := range e.sinks {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
