package logging

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type memorySink struct {
	events []*Event
	fail   error
	closed int
}

func (m *memorySink) Write(ev *Event) error {
	if m.fail != nil {
		return m.fail
	}
	m.events = append(m.events, ev)
	return nil
}

func (m *memorySink) Close() error {
	m.closed++
	return nil
}

func TestEmitterStampsMetadataAndUTC(t *testing.T) {
	sink := &memorySink{}
	e, err := NewEmitter(Metadata{RunID: "vm-503ad4d1", AgentSystem: "openclaw"}, sink)
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("x", 2*3600)
	e.SetClock(func() time.Time { return time.Date(2026, 2, 24, 23, 3, 15, 60999000, zone) })
	if err := e.EmitKeyInjection([]string{"tls"}, KeyInjectionData{SecretName: "K", Host: "h", Action: ActionInjected}); err != nil {
		t.Fatal(err)
	}
	if len(sink.events) != 1 {
		t.Fatalf("%d events", len(sink.events))
	}
	ev := sink.events[0]
	if ev.RunID != "vm-503ad4d1" || ev.AgentSystem != "openclaw" || ev.Plugin != PluginSecretInjector {
		t.Fatalf("%+v", ev)
	}
	if ev.TS.Location() != time.UTC || ev.TS.Hour() != 21 {
		t.Fatalf("ts %v is not UTC", ev.TS)
	}
	if ev.Summary != `secret "K" injected for h` || !strings.Contains(string(ev.Data), `"action":"injected"`) {
		t.Fatalf("%s %s", ev.Summary, ev.Data)
	}
}

func TestEmitterStopsAtFirstFailingSink(t *testing.T) {
	boom := errors.New("boom")
	first, second := &memorySink{fail: boom}, &memorySink{}
	e, err := NewEmitter(Metadata{RunID: "r", AgentSystem: "a"}, first, second)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EmitBudgetAction("", nil, BudgetActionData{Action: "warn"}); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if len(second.events) != 0 {
		t.Fatal("the second sink got the event")
	}
	if err := e.Close(); err != nil || first.closed != 1 || second.closed != 1 {
		t.Fatalf("close: %v %d %d", err, first.closed, second.closed)
	}
}

func TestEmitterNeedsMetadata(t *testing.T) {
	for _, m := range []Metadata{{RunID: "r"}, {AgentSystem: "a"}} {
		if _, err := NewEmitter(m); !errors.Is(err, ErrEmptyMetadata) {
			t.Fatalf("%+v: %v", m, err)
		}
	}
	var off *Emitter
	if err := off.EmitLLMRequest(nil, LLMRequestData{}); err != nil {
		t.Fatal("a nil emitter (logging off) emits nothing")
	}
}

func TestEmitMarshalError(t *testing.T) {
	e, _ := NewEmitter(Metadata{RunID: "r", AgentSystem: "a"}, &memorySink{})
	err := e.Emit(EventBudgetAction, "s", "", nil, map[string]any{"c": make(chan int)})
	if !errors.Is(err, ErrMarshalData) {
		t.Fatalf("got %v", err)
	}
}
