package validate

import (
	"math"
	"regexp"
	"strings"
	"unicode"
)

// A detector of one well-known credential format: the token's pattern (its body in group
// 1), and the check its body must pass.
type detector struct {
	kind    string
	pattern *regexp.Regexp
	// wordStart: the token must start a word (not after [A-Za-z0-9_-]).
	wordStart bool
	// notBefore: the byte after the token must not be one of these.
	notAfter string
	check    func(token, body string) bool
}

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	wordByte = alnum + "_-"
)

var placeholder = regexp.MustCompile(`SANDBOX_SECRET_[0-9a-f]{32}`)

var detectors = []detector{
	{"Anthropic API key", regexp.MustCompile(`sk-ant-(?:(?:api|admin)\d\d-)?([A-Za-z0-9_-]{20,})`), true, "", random},
	{"OpenAI API key", regexp.MustCompile(`sk-(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,})`), true, "", func(token, body string) bool {
		return !strings.HasPrefix(token, "sk-ant-") && looksRandom(body)
	}},
	{"AWS access key id", regexp.MustCompile(`(?:AKIA|ASIA)([A-Z0-9]{16})`), true, alnum, func(_, body string) bool { return entropy(body) >= 2.5 }},
	{"GitHub token", regexp.MustCompile(`(?:gh[pousr]_|github_pat_)([A-Za-z0-9_]{36,255})`), true, alnum + "_", random},
	{"GitHub token", regexp.MustCompile(`ghs_([A-Za-z0-9_.-]{36,})`), true, "", random},
	{"Slack token", regexp.MustCompile(`(?:xox[abeoprs]|xapp)-([A-Za-z0-9-]{10,})`), true, "", func(_, body string) bool {
		return (slackNumbered.MatchString(body) && len(body) >= 20) || looksRandom(body)
	}},
	{"Google API key", regexp.MustCompile(`AIza([A-Za-z0-9_-]{35})`), true, wordByte, random},
	{"Stripe live key", regexp.MustCompile(`[sr]k_live_([A-Za-z0-9]{16,})`), true, "", random},
	{"PGP private key block", regexp.MustCompile(`-----BEGIN PGP PRIVATE KEY BLOCK-----()`), false, "", nil},
	{"PEM private key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----()`), false, "", func(token, _ string) bool {
		return !strings.Contains(token, "BLOCK")
	}},
	{"JSON Web Token", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]{7,}\.([A-Za-z0-9_-]{16,})`), true, "", nil},
}

var slackNumbered = regexp.MustCompile(`^\d{8,}-`)

func random(_, body string) bool { return looksRandom(body) }

// detect: the credential kinds in text, placeholders cut out first.
func detect(text []byte) []string {
	s := placeholder.ReplaceAllString(string(text), " ")
	var kinds []string
	for _, d := range detectors {
		if contains(kinds, d.kind) {
			continue
		}
		for _, m := range d.pattern.FindAllStringSubmatchIndex(s, -1) {
			if d.wordStart && m[0] > 0 && strings.IndexByte(wordByte, s[m[0]-1]) >= 0 {
				continue
			}
			if d.notAfter != "" && m[1] < len(s) && strings.IndexByte(d.notAfter, s[m[1]]) >= 0 {
				continue
			}
			if d.check == nil || d.check(s[m[0]:m[1]], s[m[2]:m[3]]) {
				kinds = append(kinds, d.kind)
				break
			}
		}
	}
	return kinds
}

func entropy(s string) float64 {
	counts := map[rune]float64{}
	n := 0.0
	for _, r := range s {
		counts[r]++
		n++
	}
	e := 0.0
	for _, c := range counts {
		e -= c / n * math.Log2(c/n)
	}
	return e
}

var wordSegment = regexp.MustCompile(`^([A-Za-z]+)[0-9]*$`)

func wordLike(seg string) bool {
	if len(seg) <= 3 {
		return true
	}
	m := wordSegment.FindStringSubmatch(seg)
	if m == nil {
		return false
	}
	letters := m[1]
	return letters == strings.ToLower(letters) || letters == strings.ToUpper(letters) ||
		(unicode.IsUpper(rune(letters[0])) && letters[1:] == strings.ToLower(letters[1:]))
}

// looksRandom: a body of word-like segments needs 4.5 bits a character, any other 3.0.
func looksRandom(body string) bool {
	segments := strings.FieldsFunc(body, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	allWords := len(segments) > 0
	for _, s := range segments {
		allWords = allWords && wordLike(s)
	}
	if allWords {
		return entropy(strings.ToLower(body)) >= 4.5
	}
	return entropy(strings.ToLower(body)) >= 3.0
}
