package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/importjob"
)

// TestImportPreviewStoredAndScrubbed: an update's dry-run preview is kept
// in the job's params (hostile text as it is), and once a person's erasure
// is verified no preview row holds them: their rows go, even a value the
// params hold JSON-escaped, and nobody else's row changes.
func TestImportPreviewStoredAndScrubbed(t *testing.T) {
	eachImportDB(t, func(t *testing.T, db *Store) {
		st := db.ImportJobs()
		j := newImportJob(t, st, "email,firstName\nsomeone@example.com,A\n", importjob.StateReady)
		j.Preview = []importjob.RowPreview{
			{Num: 2, ID: "u1", Name: "<script>alert(1)</script>", Changes: []importjob.FieldChange{{Field: "firstName", Old: "Ann", New: `"x" & <b>`}}},
			{Num: 3, ID: "u2", Name: "Bob", Changes: []importjob.FieldChange{{Field: "Tier", Attr: true, Old: "gold"}}},
			{Num: 4, ID: "u3", Name: "Carl", Note: importjob.NoteUnreadable},
		}
		j.PreviewReads = 3
		if err := st.SaveJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		got, err := st.Job(t.Context(), j.ID)
		if err != nil || !reflect.DeepEqual(got.Preview, j.Preview) || got.PreviewReads != 3 {
			t.Fatalf("preview read back = %+v, %d (%v); want %+v", got.Preview, got.PreviewReads, err, j.Preview)
		}
		if n, err := db.ScrubImportRows(t.Context(), []string{"nobody@example.com", "Ca"}); err != nil || n != 0 {
			t.Fatalf("scrub of unrelated values changed %d (%v); want 0", n, err)
		}
		n, err := db.ScrubImportRows(t.Context(), []string{"<script>alert(1)</script>", "Carl"})
		if err != nil || n != 2 {
			t.Fatalf("scrub changed %d (%v); want 2 preview rows", n, err)
		}
		got, _ = st.Job(t.Context(), j.ID)
		if len(got.Preview) != 1 || got.Preview[0].Num != 3 || !reflect.DeepEqual(got.Preview[0], j.Preview[1]) {
			t.Errorf("preview after the scrub = %+v; want Bob's row only, as it was", got.Preview)
		}
		var params string
		if err := db.db.QueryRowContext(t.Context(), db.q(`SELECT params FROM jobs WHERE id = ?`), j.ID).Scan(&params); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(params, "Carl") || strings.Contains(params, "alert") {
			t.Errorf("the params still hold the person: %s", params)
		}
	})
}
