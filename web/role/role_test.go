package role

import "testing"

func TestAtLeast(t *testing.T) {
	cases := []struct {
		r, min Role
		want   bool
	}{
		{Viewer, Viewer, true}, {Viewer, Agent, false}, {Agent, Viewer, true},
		{Lead, Agent, true}, {Agent, Lead, false}, {"", Viewer, false}, {"admin", Viewer, false},
	}
	for _, c := range cases {
		if got := c.r.AtLeast(c.min); got != c.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", c.r, c.min, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, r := range All() {
		if got, ok := Parse(string(r)); !ok || got != r {
			t.Errorf("Parse(%q) = %q, %v", r, got, ok)
		}
	}
	for _, s := range []string{"", "Lead", "admin", " lead"} {
		if _, ok := Parse(s); ok {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}
