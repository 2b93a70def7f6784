package importjob

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

func sp(s string) *string      { return &s }
func lp(s ...string) *[]string { return &s }

// TestDiff: a field the patch leaves out is unchanged and not listed; one
// it sets to what the customer has is not listed either; one it sets empty
// is cleared (old → empty); lists compare whole; custom attributes compare
// by definition id, Text and Select alike, and are named by the file's
// attribute names.
func TestDiff(t *testing.T) {
	u := apiclient.EndUser{ID: "u1", DisplayName: "Ann Old", FirstName: "Ann", LastName: "Old", Email: "ann@example.com",
		PhoneNumber: "+4520123456", MiddleNames: []string{"Marie"}, AdditionalEmails: []string{"a@x.dk", "b@x.dk"},
		CustomAttributes: []apiclient.CustomAttribute{
			{ID: "d-tier", Name: "Tier (Dixa's name)", Identifier: "tier", Value: apiclient.SelectValue("gold")},
			{ID: "d-note", Name: "Note", Identifier: "note", Value: apiclient.TextValue("call after 5")},
			{ID: "d-same", Name: "Same", Identifier: "same", Value: apiclient.TextValue("kept")},
		}}
	names := map[string]string{"d-tier": "Tier", "d-note": "Notes for agents", "d-new": "Segment"}
	long := strings.Repeat("x", 200)
	tests := []struct {
		name  string
		patch apiclient.PatchEndUserInput
		attrs map[string]apiclient.AttributeValue
		want  []FieldChange
	}{
		{name: "nothing set", want: nil},
		{name: "same values", patch: apiclient.PatchEndUserInput{FirstName: sp("Ann"), MiddleNames: lp("Marie"), Email: sp("ann@example.com")}, want: nil},
		{name: "changed and unchanged", patch: apiclient.PatchEndUserInput{FirstName: sp("Ann"), LastName: sp("New"), PhoneNumber: sp("+4520999999")},
			want: []FieldChange{{Field: "lastName", Old: "Old", New: "New"}, {Field: "phoneNumber", Old: "+4520123456", New: "+4520999999"}}},
		{name: "cleared", patch: apiclient.PatchEndUserInput{LastName: sp(""), AdditionalEmails: lp()},
			want: []FieldChange{{Field: "lastName", Old: "Old"}, {Field: "additionalEmails", Old: "a@x.dk, b@x.dk"}}},
		{name: "clearing an empty field changes nothing", patch: apiclient.PatchEndUserInput{ExternalID: sp(""), AdditionalPhoneNumbers: lp()}, want: nil},
		{name: "empty gets a value", patch: apiclient.PatchEndUserInput{ExternalID: sp("crm-1")},
			want: []FieldChange{{Field: "externalId", New: "crm-1"}}},
		{name: "list order matters", patch: apiclient.PatchEndUserInput{AdditionalEmails: lp("b@x.dk", "a@x.dk")},
			want: []FieldChange{{Field: "additionalEmails", Old: "a@x.dk, b@x.dk", New: "b@x.dk, a@x.dk"}}},
		{name: "form order", patch: apiclient.PatchEndUserInput{Email: sp("n@x.dk"), DisplayName: sp("Ann New")},
			want: []FieldChange{{Field: "displayName", Old: "Ann Old", New: "Ann New"}, {Field: "email", Old: "ann@example.com", New: "n@x.dk"}}},
		{name: "long values clipped", patch: apiclient.PatchEndUserInput{FirstName: sp(long)},
			want: []FieldChange{{Field: "firstName", Old: "Ann", New: strings.Repeat("x", 60) + "…"}}},
		{name: "attributes", attrs: map[string]apiclient.AttributeValue{
			"d-tier": apiclient.SelectValue("silver"), "d-note": apiclient.ClearValue(), "d-same": apiclient.TextValue("kept"),
			"d-new": apiclient.TextValue("b2b"), "d-unnamed": apiclient.ClearValue()},
			want: []FieldChange{{Field: "Notes for agents", Attr: true, Old: "call after 5"}, {Field: "Segment", Attr: true, New: "b2b"},
				{Field: "Tier", Attr: true, Old: "gold", New: "silver"}}},
		{name: "attribute named by Dixa when the file has no name", attrs: map[string]apiclient.AttributeValue{"d-same": apiclient.TextValue("other")},
			want: []FieldChange{{Field: "Same", Attr: true, Old: "kept", New: "other"}}},
		{name: "select path", attrs: map[string]apiclient.AttributeValue{"d-tier": apiclient.SelectValue("gold", "plus")},
			want: []FieldChange{{Field: "Tier", Attr: true, Old: "gold", New: "gold › plus"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(u, tt.patch, tt.attrs, names)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// recordingAPI counts the reads of one customer and notes whether each was
// in the low-priority lane.
type recordingAPI struct {
	API
	mu        sync.Mutex
	gets      int
	urgentGet int
}

func (a *recordingAPI) GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error) {
	a.mu.Lock()
	a.gets++
	// The lane is a context value of apiclient's own; its key's type name
	// shows in the context's description.
	if !strings.Contains(fmt.Sprint(ctx), "lowPriority") {
		a.urgentGet++
	}
	a.mu.Unlock()
	return a.API.GetEndUser(ctx, id)
}

// TestPreviewByID: an update matched by id reads the customers of its first
// rows only (at most PreviewRows requests, low priority) and stores what
// each row would change; a row whose id is nobody's says so; starting the
// job drops the preview.
func TestPreviewByID(t *testing.T) {
	env := newSimEnv(t, envOpts{users: 40})
	var ids []string
	env.sim.AnyUserID(func(u apiclient.EndUser) bool {
		if u.LastName != "" && len(ids) < 14 {
			ids = append(ids, u.ID)
		}
		return false
	})
	if len(ids) < 14 {
		t.Fatalf("the simulator seeds %d customers with a last name; want 14", len(ids))
	}
	first, err := env.api.GetEndUser(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id,lastName\n")
	fmt.Fprintf(&b, "%s,%s\n", ids[0], first.LastName) // row 2: no change
	b.WriteString("6f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a,Nobody\n")
	for i, id := range ids[1:] {
		fmt.Fprintf(&b, "%s,Renamed%d\n", id, i)
	}
	st := NewMemStore()
	j := prepare(t, st, ModeUpdate, b.String(), 0)
	if j.State != StateChecking || j.CheckMethod != CheckPreview || j.CheckCost != PreviewRows {
		t.Fatalf("job = state %s check %q cost %d; want checking, preview, %d", j.State, j.CheckMethod, j.CheckCost, PreviewRows)
	}
	api := &recordingAPI{API: env.api}
	before := countRequests(env, http.MethodGet)
	j = runUntil(t, fastRunner(st, api), st, j.ID, 10*time.Second, StateReady)
	if got := countRequests(env, http.MethodGet) - before; got != PreviewRows || api.gets != PreviewRows || api.urgentGet != 0 {
		t.Errorf("the check made %d GET requests (%d through the runner, %d not low-priority); want %d, all low-priority",
			got, api.gets, api.urgentGet, PreviewRows)
	}
	if len(j.Preview) != PreviewRows || j.PreviewReads != PreviewRows || j.CheckDone != PreviewRows {
		t.Fatalf("preview of %d rows, %d reads, %d done; want %d each", len(j.Preview), j.PreviewReads, j.CheckDone, PreviewRows)
	}
	if p := j.Preview[0]; p.Num != 2 || p.ID != ids[0] || len(p.Changes) != 0 || p.Note != "" || p.Name == "" {
		t.Errorf("row 2 preview = %+v; want no change, with the customer's name", p)
	}
	if p := j.Preview[1]; p.Num != 3 || p.Note != NoteNotFound {
		t.Errorf("row 3 preview = %+v; want the not-found note", p)
	}
	p := j.Preview[2]
	cur, _ := env.api.GetEndUser(t.Context(), ids[1])
	want := []FieldChange{{Field: "lastName", Old: cur.LastName, New: "Renamed0"}}
	if p.Num != 4 || p.ID != ids[1] || !reflect.DeepEqual(p.Changes, want) {
		t.Errorf("row 4 preview = %+v; want %+v", p, want)
	}
	if last := j.Preview[PreviewRows-1]; last.Num != PreviewRows+1 {
		t.Errorf("last previewed row %d; want %d (the first rows in order)", last.Num, PreviewRows+1)
	}
	if _, err := Start(t.Context(), st, j, 0); err != nil {
		t.Fatal(err)
	}
	if j, _ = st.Job(t.Context(), j.ID); j.Preview != nil {
		t.Errorf("the preview outlived the start: %+v", j.Preview)
	}
}

// TestPreviewByEmailReusesLookups: an update matched by email compares its
// rows with the customers the lookups found, without reading them again;
// only a row with custom attributes costs one more read (the list leaves
// attributes out). Rows not found or ambiguous are not previewed.
func TestPreviewByEmailReusesLookups(t *testing.T) {
	env := newSimEnv(t, envOpts{users: -1})
	defs, err := env.api.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var text *apiclient.CustomAttributeDefinition
	for i, d := range defs {
		if d.EntityType == apiclient.EntityContact && d.InputDefinition.Type == apiclient.InputText && !d.IsArchived && !d.IsDeactivated {
			text = &defs[i]
			break
		}
	}
	if text == nil {
		t.Fatal("the simulator seeds no active Contact text attribute")
	}
	for i := range 3 {
		if _, err := env.api.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{Email: fmt.Sprintf("p%d@example.com", i),
			FirstName: fmt.Sprintf("First%d", i), DisplayName: fmt.Sprintf("<script>alert(%d)</script>", i)}); err != nil {
			t.Fatal(err)
		}
	}
	file := "email,firstName,attr." + text.Identifier + "\n" +
		"p0@example.com,First0,\n" + // row 2: no change
		"nobody@example.com,X,\n" + // row 3: not found
		"p1@example.com,Changed,gold\n" + // row 4: a field and an attribute
		"p2@example.com,,silver\n" // row 5: an attribute only
	st := NewMemStore()
	j, err := Prepare(t.Context(), st, Upload{File: strings.NewReader(file), Mode: ModeUpdate, Region: "DK", Limit: 1 << 20,
		Definitions: env.api.ListCustomAttributeDefinitions})
	if err != nil {
		t.Fatal(err)
	}
	api := &recordingAPI{API: env.api}
	j = runUntil(t, fastRunner(st, api), st, j.ID, 10*time.Second, StateReady)
	if api.gets != 2 || api.urgentGet != 0 || j.PreviewReads != 2 || j.CheckDone != 4 {
		t.Errorf("reads %d (%d not low-priority), preview reads %d, lookups %d; want 2 reads (the rows with attributes), 4 lookups",
			api.gets, api.urgentGet, j.PreviewReads, j.CheckDone)
	}
	if len(j.Preview) != 3 {
		t.Fatalf("preview = %+v; want rows 2, 4, 5", j.Preview)
	}
	if p := j.Preview[0]; p.Num != 2 || len(p.Changes) != 0 || p.Name != "<script>alert(0)</script>" {
		t.Errorf("row 2 = %+v; want no change, named as in Dixa", p)
	}
	label := text.Label
	if label == "" {
		label = text.Identifier
	}
	want := []FieldChange{{Field: "firstName", Old: "First1", New: "Changed"}, {Field: label, Attr: true, New: "gold"}}
	if p := j.Preview[1]; p.Num != 4 || !reflect.DeepEqual(p.Changes, want) {
		t.Errorf("row 4 = %+v; want %+v", p, want)
	}
	if p := j.Preview[2]; p.Num != 5 || len(p.Changes) != 1 || p.Changes[0].New != "silver" {
		t.Errorf("row 5 = %+v; want the attribute only", p)
	}
}

// TestPreviewIsScrubbedAndDroppedOnCancel: an erased person's preview row
// goes (nobody else's), and cancelling a job that never started drops the
// rest.
func TestPreviewIsScrubbedAndDroppedOnCancel(t *testing.T) {
	st := NewMemStore()
	j := prepare(t, st, ModeUpdate, "id,firstName\n6f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a,Alicia\n", 0)
	j.Preview = []RowPreview{
		{Num: 2, ID: "u1", Name: "Alice Ørsted", Changes: []FieldChange{{Field: "firstName", Old: "Alice", New: "Alicia"}}},
		{Num: 3, ID: "u2", Name: "Bob", Changes: []FieldChange{{Field: "additionalEmails", Old: "x@y.dk, alice@example.com"}}},
		{Num: 4, ID: "u3", Name: "Carl", Changes: []FieldChange{{Field: "lastName", Old: "Alder", New: "Bond"}}},
	}
	if err := st.SaveJob(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.ScrubImportRows(t.Context(), []string{"Al", "Bo"}); n != 0 {
		t.Fatalf("short values scrubbed %d; want 0", n)
	}
	if n, _ := st.ScrubImportRows(t.Context(), []string{"ALICE@example.com", "Alice", "Ørsted"}); n != 2 {
		t.Fatalf("scrub changed %d; want 2 previews", n)
	}
	got, _ := st.Job(t.Context(), j.ID)
	if len(got.Preview) != 1 || got.Preview[0].Num != 4 {
		t.Fatalf("preview after the scrub = %+v; want Carl's row only", got.Preview)
	}
	if _, err := Cancel(t.Context(), st, j.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.Job(t.Context(), j.ID); got.Preview != nil {
		t.Errorf("the preview outlived the cancel: %+v", got.Preview)
	}
}

// TestPreviewAfterScanReadsNothingMore: when the check reads the whole
// customer list, the preview uses the customers it read.
func TestPreviewAfterScanReadsNothingMore(t *testing.T) {
	env := newSimEnv(t, envOpts{users: -1})
	for i := range 3 {
		if _, err := env.api.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{Email: fmt.Sprintf("s%d@example.com", i),
			LastName: "Old"}); err != nil {
			t.Fatal(err)
		}
	}
	st := NewMemStore()
	j, err := Prepare(t.Context(), st, Upload{File: strings.NewReader("email,lastName\ns0@example.com,New\ns1@example.com,Old\ns2@example.com,\n"),
		Mode: ModeUpdate, Region: "DK", Limit: 1 << 20, LookupThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if j.CheckMethod != CheckScan {
		t.Fatalf("check %q; want a scan", j.CheckMethod)
	}
	api := &recordingAPI{API: env.api}
	j = runUntil(t, fastRunner(st, api), st, j.ID, 10*time.Second, StateReady)
	if len(j.Preview) != 2 {
		t.Fatalf("preview = %+v; want rows 2 and 3", j.Preview)
	}
	want := []RowPreview{
		{Num: 2, ID: j.Preview[0].ID, Name: "Old", Changes: []FieldChange{{Field: "lastName", Old: "Old", New: "New"}}},
		{Num: 3, ID: j.Preview[1].ID, Name: "Old"},
	}
	if api.gets != 0 || j.PreviewReads != 0 || !reflect.DeepEqual(j.Preview, want) {
		t.Errorf("reads %d, preview %+v; want no read and %+v (row 4 changes nothing and is an empty row)", api.gets, j.Preview, want)
	}
}
