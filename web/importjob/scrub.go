package importjob

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// KindErased is the problem kind of a row that was still to be sent when
// the person it names was erased: it is never sent.
const KindErased = "erased"

// ErasedNote replaces the problem and error texts of a row that named a
// person whose erasure was verified.
const ErasedNote = "The values of this row were removed because the person they named was erased."

// MinScrubText is the shortest value looked for inside problem and error
// texts: shorter ones would match ordinary words. Payloads are matched on
// whole values, whatever their length.
const MinScrubText = 3

// Needle is a value as looked for in stored text: as given (Raw) and
// lower-cased (Lower), so that a case-blind comparison that only folds
// ASCII still finds an exact match.
type Needle struct{ Raw, Lower string }

// Needles are what a scrub looks for: each value as a JSON string (so that
// it matches a whole value inside a stored payload, never a part of
// another one), and each value of at least MinScrubText characters inside
// problem and error texts, cut to the 60 characters a problem quotes.
type Needles struct {
	Payload []Needle
	Text    []Needle
}

// NeedlesFor returns the needles of values (email, phone numbers, names,
// external ID); blank values are left out.
func NeedlesFor(values []string) Needles {
	var n Needles
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		b, _ := json.Marshal(v)
		n.Payload = append(n.Payload, Needle{Raw: string(b), Lower: strings.ToLower(string(b))})
		if utf8.RuneCountInString(v) >= MinScrubText {
			t := v
			if r := []rune(t); len(r) > 60 {
				t = string(r[:60])
			}
			n.Text = append(n.Text, Needle{Raw: t, Lower: strings.ToLower(t)})
		}
	}
	return n
}

// Empty reports whether there is nothing to look for.
func (n Needles) Empty() bool { return len(n.Payload) == 0 && len(n.Text) == 0 }

// Mentioned reports whether the row's payload, problem or error holds one
// of the needles.
func (n Needles) Mentioned(r Row) bool {
	if !r.Item.IsZero() {
		b, _ := json.Marshal(r.Item)
		if contains(string(b), n.Payload) {
			return true
		}
	}
	return contains(r.Problem, n.Text) || contains(r.Error, n.Text)
}

func contains(s string, ns []Needle) bool {
	if s == "" {
		return false
	}
	ls := strings.ToLower(s)
	for _, x := range ns {
		if strings.Contains(ls, x.Lower) || strings.Contains(s, x.Raw) {
			return true
		}
	}
	return false
}

// Scrub blanks a row that named an erased person: its payload goes; its
// problem and error texts become ErasedNote; a row that was still to be
// sent becomes a problem (KindErased), so that it never is. Its number,
// outcome and Dixa id stay, for results.csv.
func Scrub(r *Row) {
	if r.Problem == "" && r.Outcome == OutcomePending {
		r.Kind = KindErased
	}
	if r.Problem != "" || r.Outcome == OutcomePending {
		r.Problem = ErasedNote
	}
	if r.Error != "" {
		r.Error = ErasedNote
	}
	r.Item = Item{}
	r.AttrsPending = false
}
