package logging

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func newWriter(t *testing.T) (*JSONLWriter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := NewJSONLWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func event(t *testing.T, summary string) *Event {
	t.Helper()
	ev, err := NewEvent(time.Date(2026, 2, 24, 23, 3, 15, 0, time.UTC), "r", "a", EventBudgetAction, summary, "", nil, BudgetActionData{Action: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// 100 writers x 10 events: 1000 whole lines, each valid JSON.
func TestConcurrentWritesKeepLinesWhole(t *testing.T) {
	w, path := newWriter(t)
	var wg sync.WaitGroup
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if err := w.Write(event(t, "concurrent")); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	n := 0
	for scanner.Scan() {
		var ev Event
		if err := json.Unmarshal(scanner.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("%d lines, want 1000", n)
	}
}

// Unbuffered: a written event is in the file before Close.
func TestWriteIsUnbuffered(t *testing.T) {
	w, path := newWriter(t)
	defer w.Close()
	if err := w.Write(event(t, "first")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ts":"2026-02-24T23:03:15Z","run_id":"r","agent_system":"a","event_type":"budget_action","summary":"first","data":{"action":"warn"}}` + "\n"
	if string(got) != want {
		t.Fatalf("got %q", got)
	}
}

// Append mode: a second writer on the same file adds lines after the first's.
func TestAppends(t *testing.T) {
	w, path := newWriter(t)
	if err := w.Write(event(t, "one")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := NewJSONLWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(event(t, "two")); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	var lines int
	for _, b := range got {
		if b == '\n' {
			lines++
		}
	}
	if lines != 2 {
		t.Fatalf("%d lines: %s", lines, got)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^0o644 != 0 {
		t.Fatalf("mode %v", perm)
	}
}

func TestSentinelErrors(t *testing.T) {
	_, err := NewJSONLWriter(filepath.Join(t.TempDir(), "missing-dir", "events.jsonl"))
	if !errors.Is(err, ErrCreateLogFile) {
		t.Fatalf("parent directories are not created: want ErrCreateLogFile, got %v", err)
	}
	w, _ := newWriter(t)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrCloseWriter) {
		t.Fatalf("second Close: want ErrCloseWriter, got %v", err)
	}
	if err := w.Write(event(t, "late")); !errors.Is(err, ErrWriteEvent) {
		t.Fatalf("Write after Close: want ErrWriteEvent, got %v", err)
	}
}
