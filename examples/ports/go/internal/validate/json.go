package validate

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is a JSON value's type.
type Kind int

// The JSON types.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is a parsed JSON value. Objects keep their keys in document order (a repeated key
// keeps its first place and its last value, as the reference's parser does).
type Value struct {
	Kind  Kind
	Bool  bool
	Num   float64
	Str   string
	Items []*Value
	Keys  []string
	Vals  []*Value
	// LoneSurrogate: this string (or key) held a \uD800-\uDFFF escape with no partner.
	LoneSurrogate bool
}

// Get is the value of key in an object, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i, k := range v.Keys {
		if k == key {
			return v.Vals[i]
		}
	}
	return nil
}

// MaxDepth is the reference parser's nesting limit: 127 arrays/objects parse, 128 do not.
const MaxDepth = 127

// Parsed is one line's JSON and what the parser saw on the way.
type Parsed struct {
	Value *Value
	// Duplicates: the pointer of every repeated key (a key three times: twice).
	Duplicates [][]string
	// Deepest nesting of arrays and objects.
	Depth int
	// DepthBeforeError: the nesting passed MaxDepth before the syntax error (if any).
	DepthBeforeError bool
	// Lone: the pointers of strings holding a lone surrogate (keys: their object's pointer
	// plus the key, marked by KeyLone).
	Lone    [][]string
	KeyLone bool
}

var errSyntax = errors.New("syntax")

type parser struct {
	s     string
	i     int
	depth int
	out   *Parsed
	path  []string
}

// Parse reads one JSON text (surrounding whitespace allowed, nothing else).
func Parse(s string) (*Parsed, error) {
	p := &parser{s: s, out: &Parsed{}}
	p.ws()
	v, err := p.value()
	if err == nil {
		p.ws()
		if p.i != len(p.s) {
			err = errSyntax
		}
	}
	if err != nil {
		p.out.DepthBeforeError = p.out.Depth > MaxDepth
		return p.out, err
	}
	p.out.Value = v
	return p.out, nil
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() (*Value, error) {
	if p.i >= len(p.s) {
		return nil, errSyntax
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		str, lone, err := p.str()
		if err != nil {
			return nil, err
		}
		if lone {
			p.out.Lone = append(p.out.Lone, append([]string(nil), p.path...))
		}
		return &Value{Kind: String, Str: str, LoneSurrogate: lone}, nil
	case c == 't':
		return p.lit("true", &Value{Kind: Bool, Bool: true})
	case c == 'f':
		return p.lit("false", &Value{Kind: Bool})
	case c == 'n':
		return p.lit("null", &Value{Kind: Null})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errSyntax
}

func (p *parser) lit(word string, v *Value) (*Value, error) {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return nil, errSyntax
	}
	p.i += len(word)
	return v, nil
}

func (p *parser) enter() {
	p.depth++
	if p.depth > p.out.Depth {
		p.out.Depth = p.depth
	}
}

func (p *parser) object() (*Value, error) {
	p.enter()
	defer func() { p.depth-- }()
	p.i++
	v := &Value{Kind: Object}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, errSyntax
		}
		key, lone, err := p.str()
		if err != nil {
			return nil, err
		}
		if lone {
			p.out.KeyLone = true
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errSyntax
		}
		p.i++
		p.ws()
		p.path = append(p.path, key)
		item, err := p.value()
		p.path = p.path[:len(p.path)-1]
		if err != nil {
			return nil, err
		}
		at := -1
		for j, k := range v.Keys {
			if k == key {
				at = j
			}
		}
		if at >= 0 {
			p.out.Duplicates = append(p.out.Duplicates, append(append([]string(nil), p.path...), key))
			v.Vals[at] = item
		} else {
			v.Keys = append(v.Keys, key)
			v.Vals = append(v.Vals, item)
		}
		p.ws()
		if p.i >= len(p.s) {
			return nil, errSyntax
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == '}' {
			p.i++
			return v, nil
		}
		return nil, errSyntax
	}
}

func (p *parser) array() (*Value, error) {
	p.enter()
	defer func() { p.depth-- }()
	p.i++
	v := &Value{Kind: Array}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		p.path = append(p.path, strconv.Itoa(len(v.Items)))
		item, err := p.value()
		p.path = p.path[:len(p.path)-1]
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, item)
		p.ws()
		if p.i >= len(p.s) {
			return nil, errSyntax
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == ']' {
			p.i++
			return v, nil
		}
		return nil, errSyntax
	}
}

func digits(s string, i int) int {
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j
}

func (p *parser) number() (*Value, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	end := digits(p.s, p.i)
	if end == p.i || (p.s[p.i] == '0' && end-p.i > 1) {
		return nil, errSyntax
	}
	p.i = end
	if p.i < len(p.s) && p.s[p.i] == '.' {
		end = digits(p.s, p.i+1)
		if end == p.i+1 {
			return nil, errSyntax
		}
		p.i = end
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		j := p.i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		end = digits(p.s, j)
		if end == j {
			return nil, errSyntax
		}
		p.i = end
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil && (f > 1 || f < -1) {
		// Out of range (the reference refuses what is not a finite float64).
		return nil, errSyntax
	}
	return &Value{Kind: Number, Num: f}, nil
}

// str reads a string at p.i (on its opening quote): its text, and whether it held a lone
// surrogate escape (written as U+FFFD).
func (p *parser) str() (string, bool, error) {
	p.i++
	var b strings.Builder
	lone := false
	for {
		if p.i >= len(p.s) {
			return "", false, errSyntax
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), lone, nil
		case c < 0x20:
			return "", false, errSyntax
		case c == '\\':
			r, isLone, err := p.escape()
			if err != nil {
				return "", false, err
			}
			lone = lone || isLone
			b.WriteRune(r)
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	return rune(v), err == nil
}

func (p *parser) escape() (rune, bool, error) {
	if p.i+1 >= len(p.s) {
		return 0, false, errSyntax
	}
	c := p.s[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), false, nil
	case 'b':
		return '\b', false, nil
	case 'f':
		return '\f', false, nil
	case 'n':
		return '\n', false, nil
	case 'r':
		return '\r', false, nil
	case 't':
		return '\t', false, nil
	case 'u':
		r, ok := hex4(p.s[p.i:])
		if !ok {
			return 0, false, errSyntax
		}
		p.i += 4
		if r < 0xD800 || r > 0xDFFF {
			return r, false, nil
		}
		if r <= 0xDBFF && strings.HasPrefix(p.s[p.i:], "\\u") {
			if lo, ok := hex4(p.s[p.i+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				p.i += 6
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), false, nil
			}
		}
		return utf8.RuneError, true, nil
	}
	return 0, false, errSyntax
}

// Pointer writes path as a JSON pointer.
func Pointer(path []string) string {
	var b strings.Builder
	for _, t := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
