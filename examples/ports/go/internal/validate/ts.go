package validate

import "time"

// instant is a timestamp as the reference compares them: the UTC instant; a leap second
// reads as the last nanosecond before the next minute.
type instant struct{ t time.Time }

func (a instant) before(b instant) bool { return a.t.Before(b.t) }

func num(s string) (int, bool) {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}

// parseTS accepts an RFC 3339 date-time with an offset: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`,
// `T`/`Z` in either case, a real date, a leap second only at 23:59:60 UTC on a month's
// last day.
func parseTS(s string) (instant, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return instant{}, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return instant{}, false
	}
	rest := s[19:]
	nanos := 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return instant{}, false
		}
		frac := rest[1:i]
		for k := 0; k < 9; k++ {
			nanos *= 10
			if k < len(frac) {
				nanos += int(frac[k] - '0')
			}
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := num(rest[1:3])
		om, okm := num(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return instant{}, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return instant{}, false
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 60 {
		return instant{}, false
	}
	leap := sec == 60
	if leap {
		sec = 59
	}
	local := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	if local.Day() != day {
		return instant{}, false
	}
	t := local.Add(-time.Duration(offset) * time.Second)
	if leap {
		next := t.Add(time.Second)
		if t.Hour() != 23 || t.Minute() != 59 || next.Month() == t.Month() {
			return instant{}, false
		}
		t = t.Truncate(time.Second).Add(time.Second - 1)
	}
	return instant{t}, true
}
