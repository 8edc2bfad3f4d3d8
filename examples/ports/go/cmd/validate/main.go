// Command validate checks agentlog v0 event logs and prints agentlog's JSON report
// (`agentlog validate --format json`), for the conformance harness:
//
//	agentlog conformance validate --cmd 'validate {flags} {log}'
//
// Usage: validate [--profile auto|v0] [--unknown-types error|warn] [--allow-empty]
// [--no-builtin-detectors] [--secret NAME=VALUE[@hosts]]... [--format json|text] LOG...
//
// Exit 0 without error-level findings, 1 with some, 2 on a usage error, an unreadable file,
// or input outside the v0 profile (--profile v1 or ledger, a v1-only event type or a
// tool-call ledger under auto), said on stderr. No secret value is ever printed.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"agentlog.example/goport/internal/validate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type usageError string

func (u usageError) Error() string { return string(u) }

type config struct {
	opts  validate.Options
	text  bool
	paths []string
}

func parseArgs(args []string) (*config, error) {
	c := &config{opts: validate.Options{Auto: true, Scanner: validate.Scanner{Detector: true}}}
	secrets := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if eq := strings.IndexByte(a, '='); eq >= 0 && strings.HasPrefix(a, "--") {
				return a[eq+1:], nil
			}
			if i+1 >= len(args) {
				return "", usageError(a + " needs a value")
			}
			i++
			return args[i], nil
		}
		name := a
		if eq := strings.IndexByte(a, '='); eq >= 0 && strings.HasPrefix(a, "--") {
			name = a[:eq]
		}
		switch name {
		case "--profile":
			v, err := value()
			if err != nil {
				return nil, err
			}
			switch v {
			case "auto":
				c.opts.Auto = true
			case "v0":
				c.opts.Auto = false
			case "v1", "ledger":
				return nil, fmt.Errorf("%w: --profile %s: this port checks the v0 profile only", validate.ErrUnsupported, v)
			default:
				return nil, usageError("--profile must be auto, v0, v1 or ledger")
			}
		case "--unknown-types":
			v, err := value()
			if err != nil {
				return nil, err
			}
			if v != "warn" && v != "error" {
				return nil, usageError("--unknown-types must be error or warn")
			}
			c.opts.UnknownsWarn = v == "warn"
		case "--format":
			v, err := value()
			if err != nil {
				return nil, err
			}
			if v != "json" && v != "text" {
				return nil, usageError("--format must be json or text")
			}
			c.text = v == "text"
		case "--allow-empty":
			c.opts.AllowEmpty = true
		case "--no-builtin-detectors":
			c.opts.Scanner.Detector = false
		case "--secret":
			secrets++
			v, err := value()
			if err != nil {
				return nil, err
			}
			s, err := parseSecret(v)
			if err != nil {
				// Never the argument's text: it holds the value.
				return nil, usageError(fmt.Sprintf("--secret #%d: %s", secrets, err))
			}
			c.opts.Scanner.Secrets = append(c.opts.Scanner.Secrets, s)
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return nil, usageError("unknown option " + name)
			}
			c.paths = append(c.paths, a)
		}
	}
	if len(c.paths) == 0 {
		return nil, usageError("no log given")
	}
	return c, nil
}

// parseSecret reads NAME=VALUE[@hosts] (hosts ignored; split at the last `@`).
func parseSecret(spec string) (validate.Secret, error) {
	eq := strings.IndexByte(spec, '=')
	if eq <= 0 {
		return validate.Secret{}, errors.New("expected NAME=VALUE")
	}
	name, value := spec[:eq], spec[eq+1:]
	if at := strings.LastIndexByte(value, '@'); at >= 0 {
		value = value[:at]
	}
	if len(value) < 8 {
		return validate.Secret{}, errors.New("the value is shorter than 8 bytes and would match all over a log")
	}
	return validate.NewSecret(name, value), nil
}

type summary struct {
	Files    int `json:"files"`
	Lines    int `json:"lines"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "validate: %v\n", err)
		return 2
	}
	var reports []*validate.Report
	var sum summary
	for _, path := range c.paths {
		var data []byte
		if path == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			fmt.Fprintf(stderr, "validate: cannot read %s\n", path)
			return 2
		}
		r, err := validate.CheckFile(path, data, &c.opts)
		if err != nil {
			fmt.Fprintf(stderr, "validate: %s: %v\n", path, err)
			return 2
		}
		reports = append(reports, r)
		sum.Files++
		sum.Lines += r.Lines
		for _, f := range r.Findings {
			if f.Severity == "error" {
				sum.Errors++
			} else {
				sum.Warnings++
			}
		}
	}
	if c.text {
		for _, r := range reports {
			for _, f := range r.Findings {
				at := ""
				if f.Pointer != nil {
					at = " " + *f.Pointer
				}
				fmt.Fprintf(stdout, "%s:%d: %s[%s]%s: %s\n", r.Path, f.Line, f.Severity, f.Rule, at, f.Message)
			}
		}
		fmt.Fprintf(stdout, "%d file(s), %d line(s); %d error(s), %d warning(s)\n", sum.Files, sum.Lines, sum.Errors, sum.Warnings)
	} else {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"files": reports, "summary": sum}); err != nil {
			fmt.Fprintf(stderr, "validate: %v\n", err)
			return 2
		}
	}
	if sum.Errors > 0 {
		return 1
	}
	return 0
}
