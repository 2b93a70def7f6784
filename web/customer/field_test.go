package customer

import (
	"slices"
	"testing"

	"github.com/example/dixa-console/apiclient"
)

// Patched reads back, for every field, what SetPatch wrote, and nothing
// for the fields a patch leaves out.
func TestPatchedReadsBackSetPatch(t *testing.T) {
	for _, f := range Fields() {
		var p apiclient.PatchEndUserInput
		if _, set := Patched(p, f); set {
			t.Errorf("%s: an empty patch sets it", f)
		}
		want := []string{"x@example.com"}
		if f.List() {
			want = []string{"a", "b"}
		}
		SetPatch(&p, f, want)
		got, set := Patched(p, f)
		if !set || !slices.Equal(got, want) {
			t.Errorf("%s: set %v, read back %v (%v)", f, want, got, set)
		}
	}
}
