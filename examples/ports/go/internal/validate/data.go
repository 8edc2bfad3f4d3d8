package validate

import (
	"fmt"
	"math"
	"strings"
)

// fieldRule is one property of a v0 data schema (schema/v0/*.json).
type fieldRule struct {
	name string
	// kind: "string", "integer", "number" or "boolean".
	kind      string
	minLength bool
	minimum   bool
	enum      []string
}

type dataSchema struct {
	required []string
	fields   []fieldRule
	// together: each present field needs the others (dependentRequired).
	together []string
}

func (s dataSchema) field(name string) (fieldRule, bool) {
	for _, f := range s.fields {
		if f.name == name {
			return f, true
		}
	}
	return fieldRule{}, false
}

func str(name string) fieldRule { return fieldRule{name: name, kind: "string", minLength: true} }
func count(name string) fieldRule {
	return fieldRule{name: name, kind: "integer", minimum: true}
}
func oneOf(name string, values ...string) fieldRule {
	return fieldRule{name: name, kind: "string", enum: values}
}

var dataSchemas = map[string]dataSchema{
	"llm_request": {
		required: []string{"method", "host", "path", "routed"},
		fields: []fieldRule{str("method"), str("host"), str("path"), str("model"),
			{name: "routed", kind: "boolean"}, str("routed_to"), str("exchange_id"),
			{name: "reserved_usd", kind: "number", minimum: true}},
	},
	"llm_response": {
		required: []string{"method", "host", "path", "status_code", "duration_ms", "body_bytes"},
		fields: []fieldRule{str("method"), str("host"), str("path"), count("status_code"),
			count("duration_ms"), count("body_bytes"), str("model"), count("input_tokens"),
			count("output_tokens"), count("cached_input_tokens"),
			count("cache_creation_input_tokens"), count("reasoning_tokens"),
			{name: "cost_usd", kind: "number", minimum: true},
			oneOf("cost_source", "provider", "price_table", "reservation"),
			oneOf("service_tier", "standard", "priority", "flex", "batch"),
			oneOf("usage", "unknown", "partial"), str("exchange_id")},
		together: []string{"cost_usd", "cost_source"},
	},
	"budget_action": {
		required: []string{"action"},
		fields: []fieldRule{str("action"), count("tokens_used"),
			{name: "cost_usd", kind: "number", minimum: true}, {name: "remaining", kind: "number"},
			str("exchange_id")},
	},
	"key_injection": {
		required: []string{"secret_name", "host", "action"},
		fields: []fieldRule{str("secret_name"), str("host"),
			oneOf("action", "injected", "skipped", "leak_blocked"), str("exchange_id")},
	},
}

func typeOK(v *Value, kind string) bool {
	switch kind {
	case "string":
		return v.Kind == String
	case "boolean":
		return v.Kind == Bool
	case "integer":
		return v.Kind == Number && v.Num == math.Trunc(v.Num)
	}
	return v.Kind == Number
}

// data checks an object `data` against its type's schema.
func (st *state) data(n int, s dataSchema, data *Value) {
	for _, name := range s.required {
		if data.Get(name) == nil {
			st.errorAt(n, "data.required", ptr("/data/"+name), fmt.Sprintf("required field `%s` is missing", name))
		}
	}
	for _, name := range s.together {
		if data.Get(name) == nil {
			continue
		}
		for _, other := range s.together {
			if data.Get(other) == nil {
				st.errorAt(n, "data.required", ptr("/data/"+other), fmt.Sprintf("required field `%s` is missing", other))
			}
		}
	}
	for _, f := range s.fields {
		v := data.Get(f.name)
		if v == nil {
			continue
		}
		at := ptr("/data/" + f.name)
		if !typeOK(v, f.kind) {
			st.errorAt(n, "data.type", at, fmt.Sprintf("value is not of type %q", f.kind))
		}
		switch {
		case f.enum != nil && !(v.Kind == String && in(v.Str, f.enum)):
			st.errorAt(n, "data.invalid", at, "value is not one of "+strings.Join(f.enum, ", "))
		case f.minLength && v.Kind == String && v.Str == "":
			st.errorAt(n, "data.invalid", at, "value is shorter than 1 character")
		case f.minimum && v.Kind == Number && v.Num < 0:
			st.errorAt(n, "data.invalid", at, "value is less than the minimum of 0")
		}
	}
}
