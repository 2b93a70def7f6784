package audit

import (
	"strings"
	"time"

	"github.com/example/dixa-console/web/apperr"
)

// Filter selects entries. Empty fields match everything.
type Filter struct {
	Actor string
	// Action is an exact action, or a prefix when it ends in "." or "*"
	// ("erasure." selects every erasure step); see ActionPrefix.
	Action     string
	TargetType string
	TargetID   string
	From, To   time.Time // To is exclusive
	// BeforeSeq pages backwards: only entries with seq < BeforeSeq.
	BeforeSeq int64
	// AfterSeq pages forwards: only entries with seq > AfterSeq.
	AfterSeq int64
	// Limit caps the result (0: DefaultLimit). Ascending orders oldest first.
	Limit     int
	Ascending bool
}

// Inverted reports whether the filter's From comes after its To, a range
// that can hold no entry.
func (f Filter) Inverted() bool {
	return !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To)
}

// DefaultLimit is the number of entries a Filter without a Limit returns.
const DefaultLimit = 100

// ActionPrefix returns the prefix that Action selects and true when Action
// ends in "." or "*" (a trailing "*" is dropped, a trailing "." kept);
// otherwise Action is matched exactly.
func (f Filter) ActionPrefix() (string, bool) {
	a := f.Action
	if strings.HasSuffix(a, "*") || strings.HasSuffix(a, ".") {
		return strings.TrimSuffix(a, "*"), true
	}
	return "", false
}

// MaxQueryText bounds each text field of a Query.
const MaxQueryText = 320

// Query is a filter as a person writes it: actor, action (exact, or a
// prefix ending in "." or "*"), target type, target id, and the first and
// last day (YYYY-MM-DD, both inclusive, UTC).
type Query struct {
	Actor, Action, TargetType, Target string
	From, To                          string
}

// dayFormat is how a Query writes a day.
const dayFormat = "2006-01-02"

// Filter returns the filter q asks for. A day not written YYYY-MM-DD, or a
// text longer than MaxQueryText, is an apperr.Invalid error.
func (q Query) Filter() (Filter, error) {
	f := Filter{Actor: q.Actor, Action: q.Action, TargetType: q.TargetType, TargetID: q.Target}
	if q.From != "" {
		t, err := time.Parse(dayFormat, q.From)
		if err != nil {
			return f, apperr.OnField("from", "The 'from' date must be written YYYY-MM-DD.")
		}
		f.From = t
	}
	if q.To != "" {
		t, err := time.Parse(dayFormat, q.To)
		if err != nil {
			return f, apperr.OnField("to", "The 'to' date must be written YYYY-MM-DD.")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	for _, s := range []string{q.Actor, q.Action, q.TargetType, q.Target} {
		if len(s) > MaxQueryText {
			return f, apperr.New(apperr.Invalid, "A filter is too long.")
		}
	}
	return f, nil
}
