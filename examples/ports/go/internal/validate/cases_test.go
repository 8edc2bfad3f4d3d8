package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The repository's validator cases (conformance/logs), run through CheckFile: every case the
// port supports gets exactly its verdict's findings, and the others are refused.
const casesDir = "../../../../../conformance/logs"

type verdict struct {
	Options struct {
		Profile      string            `json:"profile"`
		UnknownTypes string            `json:"unknown_types"`
		AllowEmpty   bool              `json:"allow_empty"`
		Builtin      *bool             `json:"builtin_detectors"`
		Secrets      map[string]string `json:"secrets"`
	} `json:"options"`
	Lines    int `json:"lines"`
	Findings []struct {
		Line     int    `json:"line"`
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
	} `json:"findings"`
}

func TestConformanceCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if err != nil || len(files) < 60 {
		t.Fatalf("cases not found in %s: %v", casesDir, err)
	}
	passed, refused := 0, 0
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var v verdict
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.Options.Profile == "v1" || v.Options.Profile == "ledger" {
			refused++
			continue
		}
		opts := Options{Auto: v.Options.Profile != "v0", UnknownsWarn: v.Options.UnknownTypes == "warn",
			AllowEmpty: v.Options.AllowEmpty, Scanner: Scanner{Detector: v.Options.Builtin == nil || *v.Options.Builtin}}
		for n, value := range v.Options.Secrets {
			opts.Scanner.Secrets = append(opts.Scanner.Secrets, NewSecret(n, value))
		}
		log, err := os.ReadFile(strings.TrimSuffix(file, ".json") + ".jsonl")
		if err != nil {
			t.Fatal(err)
		}
		report, err := CheckFile(name, log, &opts)
		if errors.Is(err, ErrUnsupported) {
			if !strings.HasPrefix(name, "auto_") {
				t.Errorf("%s refused: %v", name, err)
			}
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want, got []string
		for _, f := range v.Findings {
			want = append(want, fmt.Sprintf("%d %s %s", f.Line, f.Rule, f.Severity))
		}
		for _, f := range report.Findings {
			got = append(got, fmt.Sprintf("%d %s %s", f.Line, f.Rule, f.Severity))
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, "\n") != strings.Join(got, "\n") || report.Lines != v.Lines {
			t.Errorf("%s: %d lines (want %d)\n got %q\nwant %q", name, report.Lines, v.Lines, got, want)
			continue
		}
		passed++
	}
	if passed < 35 {
		t.Errorf("only %d cases passed (%d refused)", passed, refused)
	}
}

func TestParseTS(t *testing.T) {
	for _, ok := range []string{"2026-02-24T23:03:15Z", "2026-02-24t23:03:15.123456789123z", "2024-02-29T00:00:00+23:59", "2026-06-30T23:59:60Z", "2026-12-31T22:59:60-01:00"} {
		if _, good := parseTS(ok); !good {
			t.Errorf("%s refused", ok)
		}
	}
	for _, bad := range []string{"", "2026-02-24T23:03:15", "2026-02-29T00:00:00Z", "2026-02-24 23:03:15Z", "2026-02-24T24:00:00Z", "2026-02-24T23:59:60Z", "2026-02-24T23:03:15+24:00", "2026-02-24T23:03:15.Z", "2026-02-24T23:03:15Z "} {
		if _, good := parseTS(bad); good {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSecretFormsAndNoEcho(t *testing.T) {
	value := "s3cr3t/v4lue+x?"
	sc := Scanner{Secrets: []Secret{NewSecret("API", value)}}
	for _, text := range []string{value, "7333637233742f76346c75652b783f", "czNjcjN0L3Y0bHVlK3g_", "s3cr3t%2Fv4lue%2Bx%3F", "f3pe3g/i4yhr+k?"} {
		if len(sc.Scan([]byte(`{"a":"`+text+`"}`)).Secrets) == 0 {
			t.Errorf("not found in %q", text)
		}
	}
	if len(sc.Scan([]byte(strings.ToUpper(value))).Secrets) != 0 {
		t.Error("a case-changed value is not the secret")
	}
	opts := Options{Auto: true, Scanner: sc}
	line := `{"ts":"2026-02-24T23:03:15Z","run_id":"r","agent_system":"a","event_type":"` + value + `","summary":"s","` + value + `":1}` + "\n"
	report, err := CheckFile("x", []byte(line), &opts)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(report)
	if strings.Contains(string(out), value) || strings.Contains(string(out), "v4lue") {
		t.Errorf("the report shows the secret: %s", out)
	}
}
