package importjob

import (
	"reflect"
	"strings"
	"testing"
)

// TestMemStoreScrubImportRows: the in-memory store scrubs as the database
// does: the person's rows lose their payload and quoted values, a row
// still to be sent becomes a problem, and nobody else's row changes.
func TestMemStoreScrubImportRows(t *testing.T) {
	st := NewMemStore()
	file := "email,phoneNumber,firstName,lastName,externalId\n" +
		"Alice@Example.com,+4520123456,Alice,Ørsted,@alice\n" + // row 2: to be sent
		"bob@example.com,+4520123457,Bob,Builder,bob-1\n" + // row 3: someone else
		"alice@example.com,,,,\n" + // row 4: a duplicate; its problem quotes the email
		"not-an-email,,Carl,,\n" // row 5: someone else's problem
	j := prepare(t, st, ModeCreate, file, 10)
	before := allRows(t, st, j.ID)
	if len(before) != 4 || !strings.Contains(before[2].Problem, "alice@example.com") {
		t.Fatalf("rows before = %+v", before)
	}
	if n, _ := st.ScrubImportRows(t.Context(), []string{"Bo", "", "Al", "nobody@example.com"}); n != 0 {
		t.Fatalf("scrub of unrelated values changed %d rows; want 0", n)
	}
	if n, _ := st.ScrubImportRows(t.Context(), []string{"ALICE@example.com", "+4520123456", "Alice", "Ørsted", "@alice"}); n != 2 {
		t.Fatalf("scrub changed %d rows; want 2", n)
	}
	after := allRows(t, st, j.ID)
	if r := after[0]; !r.Item.IsZero() || r.Problem != ErasedNote || r.Kind != KindErased {
		t.Errorf("row 2 after = %+v; want no payload, an erased problem", r)
	}
	if r := after[2]; r.Problem != ErasedNote || r.Kind != KindDuplicate {
		t.Errorf("row 4 after = %+v; want the problem text replaced, its kind kept", r)
	}
	if !reflect.DeepEqual(after[1], before[1]) || !reflect.DeepEqual(after[3], before[3]) {
		t.Errorf("rows of others changed: %+v, %+v", after[1], after[3])
	}
	if pending, _ := st.Rows(t.Context(), j.ID, RowQuery{Filter: RowsPending}); len(pending) != 1 || pending[0].Num != 3 {
		t.Errorf("pending rows after the scrub = %+v; want only row 3", pending)
	}
}

// TestScrubKeepsResults: a finished row of the erased person keeps its
// outcome and Dixa id (results.csv) but loses its payload and texts.
func TestScrubKeepsResults(t *testing.T) {
	r := Row{Num: 7, Outcome: OutcomeFailed, DixaID: "d1", Error: "Dixa refused alice@example.com",
		Item: Item{Key: "alice@example.com"}, AttrsPending: true}
	if !NeedlesFor([]string{"alice@example.com"}).Mentioned(r) {
		t.Fatal("the row is not found by its email")
	}
	Scrub(&r)
	want := Row{Num: 7, Outcome: OutcomeFailed, DixaID: "d1", Error: ErasedNote}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("scrubbed row = %+v, want %+v", r, want)
	}
}
