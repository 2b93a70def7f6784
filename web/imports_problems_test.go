package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestProblemsCSVHasOriginalValues: problems.csv gives each problem row's
// cells as uploaded, under the file's own column names, still after the
// import ran; erasing the person blanks them.
func TestProblemsCSVHasOriginalValues(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	lead := env.Login(t, "lead")
	file := "E-mail,First name,Favourite colour\n" +
		"ok.row@example.com,Ann,blue\n" +
		"broken-email,Bob,=red\n"
	resp, body := imUpload(t, env, lead, "p.csv", []byte(file), "mode", "create")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	imWaitState(t, env, lead, jobPath, "ready")
	problems := func() [][]string {
		t.Helper()
		resp, body := env.Get(t, lead, jobPath+"/problems.csv")
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if resp.StatusCode != http.StatusOK || err != nil || len(recs) != 2 {
			t.Fatalf("problems.csv (%d, %v):\n%s", resp.StatusCode, err, body)
		}
		return recs
	}
	want := "row,kind,problem,E-mail,First name,Favourite colour"
	if recs := problems(); strings.Join(recs[0], ",") != want || recs[1][0] != "3" ||
		strings.Join(recs[1][3:], ",") != "broken-email,Bob,'=red" {
		t.Errorf("problems.csv = %q, want header %q and row 3's cells (escaped)", recs, want)
	}
	if resp, _ := env.PostForm(t, lead, jobPath+"/start", map[string][]string{"batchSize": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	imWaitState(t, env, lead, jobPath, "done")
	if recs := problems(); strings.Join(recs[1][3:], ",") != "broken-email,Bob,'=red" {
		t.Errorf("after the run: %q, want the original cells kept", recs[1])
	}
	if n, err := env.Store.ScrubImportRows(t.Context(), []string{"broken-email"}); err != nil || n != 1 {
		t.Fatalf("scrub: %d, %v", n, err)
	}
	if recs := problems(); strings.Join(recs[1][3:], "") != "" {
		t.Errorf("after erasure: %q, want no original cells", recs[1])
	}
}
