package dixasim_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

// definitions returns the organisation's definitions by identifier.
func (e *env) definitions() map[string]apiclient.CustomAttributeDefinition {
	e.t.Helper()
	var out struct {
		Data []apiclient.CustomAttributeDefinition
	}
	e.do("GET", "/v1/custom-attributes", nil).want(e.t, 200).decode(e.t, &out)
	m := map[string]apiclient.CustomAttributeDefinition{}
	for _, d := range out.Data {
		m[d.Identifier] = d
	}
	return m
}

func TestCustomAttributeDefinitions(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	r := e.do("GET", "/v1/custom-attributes", nil).want(t, 200)
	if strings.Contains(string(r.Body), `"meta"`) {
		t.Errorf("got meta on the definitions list, want none (not paginated)")
	}
	if !strings.Contains(string(r.Body), `Z[GMT]"`) {
		t.Errorf("got no …Z[GMT] timestamps, want Dixa's zoned style for definitions")
	}
	defs := e.definitions()
	var contact, conversation, archived, deactivated, deactivatedOption, nested, placeholder bool
	var walk func([]apiclient.SelectOption, int)
	walk = func(opts []apiclient.SelectOption, depth int) {
		for _, o := range opts {
			deactivatedOption = deactivatedOption || o.IsDeactivated
			nested = nested || depth > 0
			walk(o.NestedOptions, depth+1)
		}
	}
	for _, d := range defs {
		contact = contact || d.EntityType == "Contact"
		conversation = conversation || d.EntityType == "Conversation"
		archived = archived || d.IsArchived
		deactivated = deactivated || d.IsDeactivated
		placeholder = placeholder || d.InputDefinition.Type == "Text" && d.InputDefinition.Placeholder != ""
		walk(d.InputDefinition.Options, 0)
	}
	for name, ok := range map[string]bool{"Contact": contact, "Conversation": conversation, "archived": archived,
		"deactivated": deactivated, "deactivated option": deactivatedOption, "nested options": nested, "Text placeholder": placeholder} {
		if !ok {
			t.Errorf("got no %s definition, want one", name)
		}
	}

	loc := defs["location"]
	var one struct {
		Data apiclient.CustomAttributeDefinition
	}
	e.do("GET", "/v1/custom-attributes/"+loc.ID, nil).want(t, 200).decode(t, &one)
	if one.Data.ID != loc.ID || len(one.Data.InputDefinition.Options) == 0 {
		t.Errorf("got %+v, want the location definition", one.Data)
	}
	for _, id := range []string{"0f0f0f0f-0000-4000-8000-000000000000", "not-a-uuid"} {
		if got := e.do("GET", "/v1/custom-attributes/"+id, nil).want(t, 404).message(t); got != "The requested resource could not be found" {
			t.Errorf("got %q, want the not-found message", got)
		}
	}

	// Ids are derived from the seed only, so they survive a different
	// number of users — and an empty organisation still has definitions.
	other := newEnv(t, dixasim.Options{Users: -1})
	if got := other.definitions()["location"].ID; got != loc.ID {
		t.Errorf("got location id %s with no users, want %s", got, loc.ID)
	}
	if got := other.sim.UserCount(); got != 0 {
		t.Errorf("got %d users in an empty organisation, want 0", got)
	}
	reseeded := newEnv(t, dixasim.Options{Seed: 2})
	if got := reseeded.definitions()["location"].ID; got == loc.ID {
		t.Errorf("got the same location id for another seed, want a different one")
	}
}

func TestPatchCustomAttributes(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	defs := e.definitions()
	id := func(ident string) string { return defs[ident].ID }
	u := e.createUser(map[string]any{"displayName": "Attr Target"})
	path := "/v1/endusers/" + u.ID + "/custom-attributes"

	var out struct{ Data []attribute }
	e.do("PATCH", path, map[string]any{
		id("loyalty_number"):     "LOY-123456",
		id("location"):           []string{"denmark", "aarhus"},
		id("preferred_language"): []string{"da"},
	}).want(t, 200).decode(t, &out)
	if len(out.Data) != 3 {
		t.Fatalf("got %d attributes, want the 3 patched", len(out.Data))
	}
	got := e.getUser(u.ID).CustomAttributes
	byIdent := map[string]any{}
	for _, a := range got {
		byIdent[a.Identifier] = a.Value
	}
	if byIdent["loyalty_number"] != "LOY-123456" {
		t.Errorf("got loyalty_number %v, want LOY-123456", byIdent["loyalty_number"])
	}
	if v, _ := json.Marshal(byIdent["location"]); string(v) != `["denmark","aarhus"]` {
		t.Errorf("got location %s, want the path", v)
	}

	// A prefix of a path, and null to clear, only report what was set.
	e.do("PATCH", path, map[string]any{id("location"): []string{"sweden"}, id("loyalty_number"): nil}).
		want(t, 200).decode(t, &out)
	if len(out.Data) != 1 || out.Data[0].Identifier != "location" {
		t.Errorf("got %+v, want only location (cleared ones are left out)", out.Data)
	}
	after := e.getUser(u.ID).CustomAttributes
	if slices.ContainsFunc(after, func(a attribute) bool { return a.Identifier == "loyalty_number" }) {
		t.Errorf("got loyalty_number after clearing it, want it gone")
	}
	e.do("PATCH", path, map[string]any{}).want(t, 200)

	tests := []struct {
		name string
		body any
		msg  string
	}{
		{"unknown attribute", map[string]any{"0f0f0f0f-0000-4000-8000-000000000000": "x"}, "Invalid input for patching: unknown custom attribute"},
		{"conversation attribute", map[string]any{id("parcel_id"): "1234"}, "is not an end user (Contact) attribute"},
		{"archived attribute", map[string]any{id("legacy_segment"): "x"}, "is archived"},
		{"deactivated attribute", map[string]any{id("newsletter_opt_in"): []string{"yes"}}, "is deactivated"},
		{"text given a list", map[string]any{id("loyalty_number"): []string{"x"}}, "must be a string"},
		{"select given a string", map[string]any{id("customer_tier"): "gold"}, "must be a non-empty array"},
		{"select empty", map[string]any{id("customer_tier"): []string{}}, "must be a non-empty array"},
		{"unknown option", map[string]any{id("customer_tier"): []string{"diamond"}}, `has no option "diamond" at level 1`},
		{"city under the wrong country", map[string]any{id("location"): []string{"denmark", "berlin"}}, `has no option "berlin" at level 2`},
		{"too deep", map[string]any{id("location"): []string{"denmark", "aarhus", "center"}}, "at level 3"},
		{"deactivated option", map[string]any{id("location"): []string{"sweden", "malmo"}}, `option "malmo" is deactivated`},
		{"key not a uuid", map[string]any{"location": "x"}, "Invalid value for: body"},
		{"not an object", `["x"]`, "Decoding failure in request"},
		{"bad JSON", `{`, "Decoding failure in request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PATCH", path, tt.body).want(t, 400)
			if got := r.message(t); !strings.Contains(got, tt.msg) {
				t.Errorf("got %q, want it to contain %q", got, tt.msg)
			}
		})
	}
	e.do("PATCH", "/v1/endusers/0f0f0f0f-0000-4000-8000-000000000000/custom-attributes", map[string]any{}).want(t, 404)
	e.do("PATCH", "/v1/endusers/nope/custom-attributes", map[string]any{}).want(t, 400)
}
