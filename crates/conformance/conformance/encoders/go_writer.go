// Writes the events of events.json as Go's encoding/json writes them: the envelope is a
// struct (its field order, `omitempty`), `data` a map (encoding/json sorts map keys),
// `ts` a time.Time in UTC (time.RFC3339Nano: trailing zeros of the fraction dropped, no
// fraction on a whole second), `<`, `>` and `&` escaped as \u003c, \u003e, \u0026 and
// U+2028/U+2029 as \u2028/\u2029, other non-ASCII as UTF-8; one json.Encoder line each.
//
// Usage: go run go_writer.go events.json v0|v1 > ../logs/encoder_go_v0.jsonl
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

type input struct {
	RunID       string            `json:"run_id"`
	AgentSystem string            `json:"agent_system"`
	V0          []json.RawMessage `json:"v0"`
	V1          []json.RawMessage `json:"v1"`
}

type source struct {
	TS        string         `json:"ts"`
	EventType string         `json:"event_type"`
	Summary   string         `json:"summary"`
	Plugin    string         `json:"plugin"`
	Tags      []string       `json:"tags"`
	Data      map[string]any `json:"data"`
}

// Event is the envelope as a Go sandbox declares it.
type Event struct {
	TS          time.Time      `json:"ts"`
	RunID       string         `json:"run_id"`
	AgentSystem string         `json:"agent_system"`
	EventType   string         `json:"event_type"`
	Summary     string         `json:"summary"`
	Plugin      string         `json:"plugin,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "go_writer:", err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return err
	}
	events := in.V0
	if os.Args[2] == "v1" {
		events = in.V1
	}
	out := json.NewEncoder(os.Stdout)
	for _, text := range events {
		var s source
		if err := json.Unmarshal(text, &s); err != nil {
			return err
		}
		ts, err := time.Parse(time.RFC3339Nano, s.TS)
		if err != nil {
			return err
		}
		event := Event{ts.UTC(), in.RunID, in.AgentSystem, s.EventType, s.Summary, s.Plugin, s.Tags, s.Data}
		if err := out.Encode(event); err != nil {
			return err
		}
	}
	return nil
}
