package customer

import (
	"slices"
	"testing"

	"github.com/example/dixa-console/apiclient"
)

func TestDecide(t *testing.T) {
	v := func(s string) []string { return []string{s} }
	for _, tc := range []struct {
		name                string
		changed             bool
		base, yours, theirs string
		want                Verdict
	}{
		{"untouched", false, "a", "a", "a", Keep},
		{"untouched, changed elsewhere", false, "a", "a", "b", Keep},
		{"changed, Dixa as shown", true, "a", "b", "a", Send},
		{"changed, same change elsewhere", true, "a", "b", "b", AlreadySo},
		{"changed, other change elsewhere", true, "a", "b", "c", Conflict},
	} {
		if got := Decide(tc.changed, v(tc.base), v(tc.yours), v(tc.theirs)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRulesChange(t *testing.T) {
	r := New("DK")
	// Retyped in another form of the same number: no change.
	c, err := r.Change(PhoneNumber, []string{"+4520123456"}, []string{"0045 20 12 34 56"})
	if err != nil || c.Changed {
		t.Errorf("reformatted phone: %+v, %v; want unchanged", c, err)
	}
	// A value equal to the base is never refused (Dixa already holds it).
	long := ofLen(DisplayName, MaxNameLen+10)
	if c, err := r.Change(DisplayName, []string{long}, []string{long}); err != nil || c.Changed {
		t.Errorf("held value: %+v, %v", c, err)
	}
	c, err = r.Change(AdditionalEmails, nil, []string{"a@b.example"})
	if err != nil || !c.Changed || !slices.Equal(c.Yours, []string{"a@b.example"}) {
		t.Errorf("new list: %+v, %v", c, err)
	}
	if c, err := r.Change(Email, []string{""}, []string{"nope"}); err == nil || !c.Changed {
		t.Errorf("refused: %+v, %v; want changed with an error", c, err)
	}
}

func TestPlanSave(t *testing.T) {
	cur := apiclient.EndUser{ID: "u", DisplayName: "Theirs", FirstName: "Ann", LastName: "New", Email: "same@b.example"}
	changes := []Change{
		{Field: DisplayName, Base: []string{"Old"}, Yours: []string{"Mine"}, Changed: true},             // conflict
		{Field: FirstName, Base: []string{"Ann"}, Yours: []string{"Anna"}, Changed: true},               // send
		{Field: LastName, Base: []string{"Old"}, Yours: []string{"Old"}},                                // keep (theirs shown)
		{Field: Email, Base: []string{"a@b.example"}, Yours: []string{"same@b.example"}, Changed: true}, // already so
		{Field: MiddleNames, Base: nil, Yours: []string{"M"}, Changed: true},                            // send a list
	}
	p := PlanSave(changes, cur)
	if !slices.Equal(p.Conflicts, []Field{DisplayName}) || !slices.Equal(p.Sent, []Field{FirstName, MiddleNames}) {
		t.Errorf("conflicts %v, sent %v", p.Conflicts, p.Sent)
	}
	if p.Verdict[LastName] != Keep || p.Verdict[Email] != AlreadySo || !slices.Equal(p.Theirs[LastName], []string{"New"}) {
		t.Errorf("verdicts %v, theirs %v", p.Verdict, p.Theirs)
	}
	if p.Patch.FirstName == nil || *p.Patch.FirstName != "Anna" || p.Patch.MiddleNames == nil || (*p.Patch.MiddleNames)[0] != "M" ||
		p.Patch.DisplayName != nil || p.Patch.Email != nil || p.Patch.LastName != nil {
		t.Errorf("patch %+v", p.Patch)
	}
}

func TestCreatePatchAndUnexpected(t *testing.T) {
	changes := []Change{
		{Field: DisplayName, Base: []string{""}, Yours: []string{"Ann"}, Changed: true},
		{Field: AvatarURL, Base: []string{""}, Yours: []string{"http://a.example/x.png"}, Changed: true},
		{Field: AdditionalEmails, Yours: []string{"a@b.example"}, Changed: true},
		{Field: LastName, Base: []string{""}, Yours: []string{""}},
	}
	in := CreatePatch(changes)
	if in.DisplayName != "Ann" || in.AvatarURL != "http://a.example/x.png" || !slices.Equal(in.AdditionalEmails, []string{"a@b.example"}) || in.LastName != "" {
		t.Errorf("create input %+v", in)
	}
	// Dixa re-hosts avatars: not a surprise. A different name is.
	after := apiclient.EndUser{ID: "u", DisplayName: "ANN", AvatarURL: "https://files.dixa.io/x", AdditionalEmails: []string{"a@b.example"}}
	if got := Unexpected(changes, after); !slices.Equal(got, []Field{DisplayName}) {
		t.Errorf("unexpected = %v, want displayName", got)
	}
	if got := Unexpected(changes, apiclient.EndUser{}); got != nil {
		t.Errorf("no answer body: %v", got)
	}
}

func TestFieldsAndHeld(t *testing.T) {
	u := apiclient.EndUser{DisplayName: "D", FirstName: "F", LastName: "L", Email: "e@x.example", PhoneNumber: "+4520123456",
		ExternalID: "X", AvatarURL: "http://a", MiddleNames: []string{"M"}, AdditionalEmails: []string{"a@x.example"}, AdditionalPhoneNumbers: []string{"+4520123457"}}
	var p apiclient.PatchEndUserInput
	for _, f := range Fields() {
		if !f.Known() || len(Held(f, u)) != 1 || Held(f, u)[0] == "" {
			t.Errorf("Held(%s) = %v", f, Held(f, u))
		}
		SetPatch(&p, f, Held(f, u))
	}
	if got := CreateInput(p); got.DisplayName != "D" || got.ExternalID != "X" || got.AdditionalPhoneNumbers[0] != "+4520123457" || got.MiddleNames[0] != "M" {
		t.Errorf("round trip %+v", got)
	}
	if Field("nope").Known() {
		t.Error("unknown field known")
	}
	for _, tc := range []struct {
		u    apiclient.EndUser
		want string
	}{
		{apiclient.EndUser{DisplayName: " D ", FirstName: "F"}, "D"},
		{apiclient.EndUser{FirstName: "F", LastName: "L"}, "F L"},
		{apiclient.EndUser{Email: "e@x.example"}, "e@x.example"},
		{apiclient.EndUser{}, "(no name)"},
	} {
		if got := Name(tc.u); got != tc.want {
			t.Errorf("Name(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}

func TestRefusals(t *testing.T) {
	got := Refusals("Updating EndUser [id=x] failed with [errors=PhoneNumberExists,EmailExists]")
	if len(got) != 2 || got[0].Field != PhoneNumber || got[0].Other != AdditionalPhoneNumbers || got[1].Field != Email {
		t.Errorf("refusals = %+v", got)
	}
	if len(Refusals("Invalid value in request")) != 0 {
		t.Error("a generic message matched a reason")
	}
}
