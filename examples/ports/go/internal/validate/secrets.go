package validate

import (
	"bytes"
	"encoding/ascii85"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"strings"
	"unicode/utf16"
)

// DecodeDepth is how many layers of escaping the scan undoes (the reference's 4).
const DecodeDepth = 4

// form is one spelling of a secret's value.
type form struct {
	text     []byte
	encoding string
	// fold: compared case-insensitively (hex, base32).
	fold bool
	// compact: also looked for with line breaks (and their JSON escapes) taken out.
	compact bool
}

// Secret is a supplied secret: its name and every form its value is looked for in.
type Secret struct {
	Name  string
	forms []form
}

// NewSecret prepares the forms of value.
func NewSecret(name, value string) Secret {
	raw := []byte(value)
	s := Secret{Name: name}
	add := func(text []byte, encoding string, fold, compact bool) {
		if len(text) == 0 {
			return
		}
		if fold {
			text = bytes.ToLower(text)
		}
		s.forms = append(s.forms, form{text, encoding, fold, compact})
	}
	le, be := utf16Bytes(value, false), utf16Bytes(value, true)
	add(raw, "raw", false, false)
	add([]byte(hex.EncodeToString(raw)), "hex", true, false)
	add(le, "utf-16le", false, false)
	add(be, "utf-16be", false, false)
	add([]byte(hex.EncodeToString(le)), "utf-16le-hex", true, false)
	add([]byte(hex.EncodeToString(be)), "utf-16be-hex", true, false)
	for _, b := range []struct {
		bytes []byte
		name  string
	}{{raw, "base64"}, {le, "utf-16le-base64"}, {be, "utf-16be-base64"}, {reverse(raw), "reversed-base64"}} {
		for _, core := range base64Cores(b.bytes) {
			add([]byte(core), b.name, false, true)
			add([]byte(strings.NewReplacer("+", "-", "/", "_").Replace(core)), b.name, false, true)
		}
	}
	add([]byte(hex.EncodeToString(reverse(raw))), "reversed-hex", true, false)
	add([]byte(rot13(value)), "rot13", false, false)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	add([]byte(b32[:len(raw)*8/5]), "base32", true, false)
	if n := len(raw) / 4 * 4; n > 0 {
		out := make([]byte, ascii85.MaxEncodedLen(n))
		add(out[:ascii85.Encode(out, raw[:n])], "ascii85", false, false)
	}
	var octal strings.Builder
	for _, c := range raw {
		fmt.Fprintf(&octal, "%03o", c)
	}
	add([]byte(octal.String()), "octal", false, false)
	if u := unpunctuated(value); len(u) >= 8 && u != value {
		add([]byte(u), "unpunctuated", false, false)
	}
	if strings.Contains(value, " ") {
		add([]byte(strings.ReplaceAll(value, " ", "+")), "percent-encoded", false, false)
	}
	return s
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

func unpunctuated(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r <= ' ' || strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) || r == 0x7f) {
			return -1
		}
		return r
	}, s)
}

// base64Cores: the base64 text of raw that does not depend on its neighbours, with raw at
// byte offsets 0, 1 and 2 of a blob.
func base64Cores(raw []byte) []string {
	var cores []string
	for offset := 0; offset < 3; offset++ {
		padded := append(make([]byte, offset), raw...)
		encoded := base64.StdEncoding.EncodeToString(padded)
		first := (8*offset + 5) / 6
		last := 8 * (offset + len(raw)) / 6
		if last-first >= 4 {
			cores = append(cores, encoded[first:last])
		}
	}
	return cores
}

// views: the text and what undoing escapes gives, layer by layer, to DecodeDepth layers;
// incomplete when a view of the last layer could still be decoded.
func views(text []byte) (out [][]byte, incomplete string) {
	seen := map[string]bool{string(text): true}
	out = [][]byte{text}
	frontier := [][]byte{text}
	for depth := 0; depth < DecodeDepth; depth++ {
		var next [][]byte
		for _, v := range frontier {
			for _, d := range decoders {
				if decoded, ok := d.decode(v); ok && !seen[string(decoded)] {
					seen[string(decoded)] = true
					out = append(out, decoded)
					next = append(next, decoded)
				}
			}
		}
		frontier = next
	}
	for _, v := range frontier {
		for _, d := range decoders {
			if _, ok := d.decode(v); ok {
				return out, d.name
			}
		}
	}
	return out, ""
}

type decoder struct {
	name   string
	decode func([]byte) ([]byte, bool)
}

var decoders = []decoder{
	{"JSON escapes", jsonUnescape},
	{"percent-encoding", percentDecode},
	{"HTML character references", htmlUnescape},
	{"hex escapes", hexEscapes},
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func jsonUnescape(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '\\') < 0 {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	changed := false
	simple := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			if c, ok := simple[b[i+1]]; ok {
				out = append(out, c)
				i++
				changed = true
				continue
			}
			if b[i+1] == 'u' && i+5 < len(b) {
				if r, ok := hex4(string(b[i+2 : i+6])); ok {
					i += 5
					if r >= 0xD800 && r <= 0xDBFF && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						if lo, ok := hex4(string(b[i+3 : i+7])); ok && lo >= 0xDC00 && lo <= 0xDFFF {
							r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
							i += 6
						}
					}
					out = appendWTF8(out, r)
					changed = true
					continue
				}
			}
		}
		out = append(out, b[i])
	}
	return out, changed
}

// appendWTF8 writes r as UTF-8, a lone surrogate as its three-byte form.
func appendWTF8(out []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(out, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	var buf [4]byte
	n := copy(buf[:], string(r))
	return append(out, buf[:n]...)
}

func percentDecode(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '%') < 0 {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	changed := false
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			hi, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				changed = true
				continue
			}
		}
		out = append(out, b[i])
	}
	return out, changed
}

func htmlUnescape(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '&') < 0 {
		return nil, false
	}
	out := []byte(html.UnescapeString(string(b)))
	return out, !bytes.Equal(out, b)
}

func hexEscapes(b []byte) ([]byte, bool) {
	if !bytes.Contains(b, []byte(`\x`)) {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	changed := false
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			hi, ok1 := unhex(b[i+2])
			lo, ok2 := unhex(b[i+3])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 3
				changed = true
				continue
			}
		}
		out = append(out, b[i])
	}
	return out, changed
}

// compactView: v without line breaks and their JSON escapes (wrapped base64).
func compactView(v []byte) []byte {
	r := strings.NewReplacer("\r", "", "\n", "", `\r`, "", `\n`, "")
	return []byte(r.Replace(string(v)))
}

// unseparatedHex: v with the `:`, `-` or ` ` between two hex pairs taken out.
func unseparatedHex(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c == ':' || c == '-' || c == ' ') && i >= 2 && i+2 < len(v) {
			_, a := unhex(v[i-1])
			_, b := unhex(v[i-2])
			_, d := unhex(v[i+1])
			_, e := unhex(v[i+2])
			if a && b && d && e {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// Scanner finds supplied secrets and credential formats in text.
type Scanner struct {
	Secrets  []Secret
	Detector bool
}

// Hits is what one scan found: indexes of secrets, detector kinds.
type Hits struct {
	Secrets    []int
	Kinds      []string
	Incomplete string
}

// Scan looks at text and its decoded views.
func (s *Scanner) Scan(text []byte) Hits {
	var h Hits
	if len(s.Secrets) == 0 && !s.Detector {
		return h
	}
	all, incomplete := views(text)
	if len(s.Secrets) > 0 {
		h.Incomplete = incomplete
	}
	type prepared struct{ plain, folded, compact, compactFolded []byte }
	var ready []prepared
	for _, v := range all {
		c := compactView(v)
		ready = append(ready, prepared{v, bytes.ToLower(unseparatedHex(v)), c, bytes.ToLower(c)})
	}
	for i, secret := range s.Secrets {
	forms:
		for _, f := range secret.forms {
			for _, v := range ready {
				hay := v.plain
				if f.fold {
					hay = v.folded
				}
				if bytes.Contains(hay, f.text) || (f.compact && bytes.Contains(v.compact, f.text)) {
					h.Secrets = append(h.Secrets, i)
					break forms
				}
			}
		}
	}
	if s.Detector {
		for _, v := range all {
			for _, k := range detect(v) {
				if !contains(h.Kinds, k) {
					h.Kinds = append(h.Kinds, k)
				}
			}
		}
	}
	return h
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Leaks: text holds a supplied secret (in any form).
func (s *Scanner) Leaks(text string) bool {
	if len(s.Secrets) == 0 {
		return false
	}
	inner := Scanner{Secrets: s.Secrets}
	return len(inner.Scan([]byte(text)).Secrets) > 0
}
