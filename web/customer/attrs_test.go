package customer

import (
	"errors"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
)

func textDef() apiclient.CustomAttributeDefinition {
	return apiclient.CustomAttributeDefinition{ID: "a1111111-1111-4111-8111-111111111111", EntityType: apiclient.EntityContact,
		Identifier: "notes", InputDefinition: apiclient.InputDefinition{Type: apiclient.InputText}}
}

func selectDef() apiclient.CustomAttributeDefinition {
	return apiclient.CustomAttributeDefinition{ID: "b2222222-2222-4222-8222-222222222222", EntityType: apiclient.EntityContact,
		Identifier: "location", InputDefinition: apiclient.InputDefinition{Type: apiclient.InputSelect, Options: []apiclient.SelectOption{
			{ID: "o-se", Label: "Sweden", Value: "sweden", OrderIndex: 3, IsDeactivated: true},
			{ID: "o-dk", Label: "Denmark", Value: "denmark", OrderIndex: 1, NestedOptions: []apiclient.SelectOption{
				{ID: "o-cph", Label: "Copenhagen", Value: "cph", OrderIndex: 2},
				{ID: "o-aar", Label: "Aarhus", Value: "aarhus", OrderIndex: 4, IsDeactivated: true}}},
		}}}
}

func TestOptionsFlatten(t *testing.T) {
	var got []string
	for _, o := range Options(selectDef().InputDefinition.Options) {
		got = append(got, o.Label+"="+strings.Join(o.Path, "/")+map[bool]string{true: "", false: " (off)"}[o.Active])
	}
	want := "Denmark=denmark|Denmark › Copenhagen=denmark/cph|Denmark › Aarhus=denmark/aarhus (off)|Sweden=sweden (off)"
	if strings.Join(got, "|") != want {
		t.Errorf("options = %q\nwant %q", strings.Join(got, "|"), want)
	}
}

func TestHeldAttr(t *testing.T) {
	d := selectDef()
	opts := Options(d.InputDefinition.Options)
	held := func(v apiclient.AttributeValue) AttrHeld {
		return HeldAttr(d, opts, &apiclient.CustomAttribute{ID: d.ID, Value: v})
	}
	if h := held(apiclient.SelectValue("denmark", "cph")); h.Input != "o-cph" || h.Display != "Denmark › Copenhagen" || !h.Editable {
		t.Errorf("held cph = %+v", h)
	}
	if h := held(apiclient.SelectValue("norway")); h.Input != KeepCurrent || h.Display != "norway" {
		t.Errorf("held removed option = %+v, want KeepCurrent", h)
	}
	if h := HeldAttr(d, opts, nil); h.Input != "" || !h.Editable {
		t.Errorf("held nothing = %+v", h)
	}
}

// The form (option ids) and the import (value or label paths) accept the
// same options: the active ones.
func TestSelectBothWays(t *testing.T) {
	d := selectDef()
	for _, tc := range []struct {
		id, text string
		ok       bool
	}{
		{"o-dk", "Denmark", true},
		{"o-cph", "denmark/cph", true},
		{"o-cph", "Denmark › Copenhagen", true},
		{"o-aar", "denmark/aarhus", false},
		{"o-se", "sweden", false},
		{"nope", "norway", false},
	} {
		formErr := NewAttrChange(d, "", tc.id).Check()
		_, importErr := ParseAttr(d, tc.text)
		if (formErr == nil) != tc.ok || (importErr == nil) != tc.ok {
			t.Errorf("%s / %q: form %v, import %v; want ok=%v", tc.id, tc.text, formErr, importErr, tc.ok)
		}
		if !tc.ok && (!errors.Is(formErr, ErrOption) || !errors.Is(importErr, ErrOption)) {
			t.Errorf("%s: refusals %v / %v, want ErrOption", tc.id, formErr, importErr)
		}
	}
	if v, _ := ParseAttr(d, "DENMARK > copenhagen"); strings.Join(v.Select, "/") != "denmark/cph" {
		t.Errorf("path = %v", v.Select)
	}
	if v := NewAttrChange(d, "o-dk", "o-cph").Value(); strings.Join(v.Select, "/") != "denmark/cph" {
		t.Errorf("form value = %v", v.Select)
	}
	if v := NewAttrChange(d, "o-dk", "").Value(); v.IsSet {
		t.Errorf("empty control = %+v, want a clear", v)
	}
}

func TestTextAttr(t *testing.T) {
	d := textDef()
	for _, tc := range []struct {
		in, want string
		reason   error
	}{
		{"  gold  ", "gold", nil},
		{"line one\r\nline two", "line one\nline two", nil},
		{"tab\there", "", ErrControl},
		{"bell\x07", "", ErrControl},
	} {
		got, err := AttrText(d, tc.in)
		if !errors.Is(err, tc.reason) || (tc.reason == nil && got != tc.want) {
			t.Errorf("AttrText(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.reason)
		}
		_, importErr := ParseAttr(d, tc.in)
		formErr := NewAttrChange(d, "", tc.in).Check()
		if (importErr == nil) != (formErr == nil) {
			t.Errorf("%q: import %v, form %v: the paths disagree", tc.in, importErr, formErr)
		}
	}
}

func TestPlanAttrs(t *testing.T) {
	text, sel := textDef(), selectDef()
	cur := apiclient.EndUser{CustomAttributes: []apiclient.CustomAttribute{
		{ID: text.ID, Value: apiclient.TextValue("theirs")},
		{ID: sel.ID, Value: apiclient.SelectValue("denmark")},
	}}
	p := PlanAttrs([]AttrChange{
		NewAttrChange(text, "base", "mine"), // someone else changed it: conflict
		NewAttrChange(sel, "o-dk", "o-cph"), // unchanged in Dixa: send
	}, cur)
	if p.Conflicts[text.ID] != "theirs" || len(p.Conflicts) != 1 {
		t.Errorf("conflicts = %v", p.Conflicts)
	}
	if v, ok := p.Patch[sel.ID]; !ok || strings.Join(v.Select, "/") != "denmark/cph" || len(p.Patch) != 1 {
		t.Errorf("patch = %v", p.Patch)
	}
	p = PlanAttrs([]AttrChange{NewAttrChange(text, "base", "theirs")}, cur)
	if len(p.Patch)+len(p.Conflicts) != 0 {
		t.Errorf("same change already in Dixa: %+v, want nothing to do", p)
	}
}

func TestMergeAttrs(t *testing.T) {
	held := []apiclient.CustomAttribute{{ID: "a", Value: apiclient.TextValue("1")}, {ID: "b", Value: apiclient.TextValue("2")}}
	patch := map[string]apiclient.AttributeValue{"a": apiclient.TextValue("9"), "b": apiclient.ClearValue(), "c": apiclient.TextValue("3")}
	got := MergeAttrs(held, nil, patch)
	var s []string
	for _, ca := range got {
		s = append(s, ca.ID+"="+ca.Value.String())
	}
	if strings.Join(s, ",") != "a=9,c=3" {
		t.Errorf("merged = %v", s)
	}
}
