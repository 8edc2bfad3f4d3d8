package validate

import "fmt"

// pairing matches request and response events by data.exchange_id, first in first out. A
// response no held request matches waits for a later request with its id (then it is an
// orphan naming that request); what is left at the end is unanswered or orphaned.
type pairing struct {
	open    map[string][]int
	orphans map[string][]int
	order   []string
}

func isRequest(t string) bool  { return t == "llm_request" || t == "http_request" }
func isResponse(t string) bool { return t == "llm_response" || t == "http_response" }

func (p *pairing) see(st *state, n int, eventType, id string) {
	if p.open == nil {
		p.open, p.orphans = map[string][]int{}, map[string][]int{}
	}
	at := ptr("/data/exchange_id")
	switch {
	case isRequest(eventType):
		if lines, ok := p.orphans[id]; ok {
			delete(p.orphans, id)
			for _, l := range lines {
				st.add(l, "exchange.orphan_response", "warning", at, fmt.Sprintf("response answers no request before it: its request comes later, at line %d", n))
			}
			return
		}
		p.open[id] = append(p.open[id], n)
		p.order = append(p.order, id)
	case isResponse(eventType):
		if lines := p.open[id]; len(lines) > 0 {
			p.open[id] = lines[1:]
			return
		}
		p.orphans[id] = append(p.orphans[id], n)
		p.order = append(p.order, id)
	}
}

func (p *pairing) finish(st *state) {
	at := ptr("/data/exchange_id")
	done := map[string]bool{}
	for _, id := range p.order {
		if done[id] {
			continue
		}
		done[id] = true
		for _, l := range p.open[id] {
			st.add(l, "exchange.unanswered", "warning", at, "request has no response with its exchange_id")
		}
		for _, l := range p.orphans[id] {
			st.add(l, "exchange.orphan_response", "warning", at, "response answers no request, and none comes later")
		}
	}
}
