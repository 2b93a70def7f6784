package views

import (
	"context"
	"strings"
	"testing"
)

// TestAttrControlMultiline: a Text attribute with a long value, a line
// break, or "note" in its identifier or label is edited in a textarea
// (value kept, escaped); other Text attributes and Selects are not.
func TestAttrControlMultiline(t *testing.T) {
	long := strings.Repeat("x", attrLongText+1)
	for _, tc := range []struct {
		name  string
		row   AttrRow
		multi bool
	}{
		{"notes identifier", AttrRow{DefID: "d1", Identifier: "agent_notes", Label: "For agents", Input: "short"}, true},
		{"notes label", AttrRow{DefID: "d2", Identifier: "x", Label: "Notes for agents"}, true},
		{"long value", AttrRow{DefID: "d3", Identifier: "tier", Label: "Tier", Input: long}, true},
		{"line break", AttrRow{DefID: "d4", Identifier: "tier", Label: "Tier", Input: "a\nb"}, true},
		{"short text", AttrRow{DefID: "d5", Identifier: "tier", Label: "Tier", Input: strings.Repeat("x", attrLongText-3)}, false},
		{"select", AttrRow{DefID: "d6", Identifier: "notes_kind", Label: "Notes", Select: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.row.Editable, tc.row.Input = true, tc.row.Input+"<b>"
			if tc.row.Select {
				tc.row.Input = ""
			}
			var b strings.Builder
			if err := attrControl(tc.row).Render(context.Background(), &b); err != nil {
				t.Fatal(err)
			}
			html := b.String()
			if got := strings.Contains(html, "<textarea"); got != tc.multi {
				t.Fatalf("textarea: %v, want %v\n%s", got, tc.multi, html)
			}
			if tc.multi && (!strings.Contains(html, `name="attr.`+tc.row.DefID+`"`) || !strings.Contains(html, "&lt;b&gt;</textarea>")) {
				t.Errorf("textarea without its name or escaped value:\n%s", html)
			}
		})
	}
}
