package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// Handler tests of the bulk import and export through the real
// router, the SQLite store and the simulator.

// upload posts a CSV file to /imports as a browser form would.
func imUpload(t *testing.T, env *webtest.Env, c *http.Client, name string, file []byte, fields ...string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.URL+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", env.Origin())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return env.Do(t, c, req)
}

func imDoc(t *testing.T, html string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitState polls the job page (as htmx does) until data-state is one of states.
func imWaitState(t *testing.T, env *webtest.Env, c *http.Client, path string, states ...string) *goquery.Document {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, body := env.Get(t, c, path, "HX-Request", "true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d := imDoc(t, body)
		st, _ := d.Find(`[data-testid="import-job"]`).Attr("data-state")
		for _, s := range states {
			if st == s {
				return d
			}
		}
	}
	t.Fatalf("job never reached %v", states)
	return nil
}

func TestImportThroughTheConsole(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 30}})
	lead := env.Login(t, "lead")
	existing, _ := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" })
	ex, _ := env.API.GetEndUser(t.Context(), existing)

	file := "\xEF\xBB\xBFE-mail;First name;Last name;Mobile;Favourite colour\n" +
		"new1@example.com;Ann;One;+44 7700 900123;blue\n" +
		"broken-email;Bob;Two;;\n" +
		ex.Email + ";Dup;Licate;;\n" +
		"new2@example.com;\"=HYPERLINK(\"\"http://evil\"\")\";Three;;\n" +
		"new1@example.com;Ann;Again;;\n" +
		"new3@example.com;Cy\n"
	resp, body := imUpload(t, env, lead, "customers.csv", []byte(file), "mode", "create", "batchSize", "2")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	if !strings.HasPrefix(jobPath, "/imports/") {
		t.Fatalf("redirect to %q", jobPath)
	}
	d := imWaitState(t, env, lead, jobPath, "ready")
	if got := d.Find(`[data-testid="count-total"]`).Text(); got != "6" {
		t.Errorf("total = %s, want 6", got)
	}
	if got := d.Find(`[data-testid="count-invalid"]`).Text(); got != "4" {
		t.Errorf("invalid = %s, want 4 (email, exists, duplicate, ragged)", got)
	}
	kinds := d.Find(`[data-testid="problem-kind"]`).Map(func(_ int, s *goquery.Selection) string { k, _ := s.Attr("data-kind"); return k })
	if strings.Join(kinds, ",") != "exists,duplicate,email,shape" {
		t.Errorf("problem kinds = %v", kinds)
	}
	if !strings.Contains(d.Find(`[data-testid="unknown-columns"]`).Text(), "Favourite colour") {
		t.Errorf("unknown column not listed")
	}
	if !strings.Contains(d.Find(`[data-testid="check"]`).Text(), "lookups, one request each") {
		t.Errorf("check cost not shown: %q", d.Find(`[data-testid="check"]`).Text())
	}
	resp, body = env.Get(t, lead, jobPath+"/problems.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "row,kind,problem\n2,") && !strings.Contains(body, "\n3,email,") {
		t.Errorf("problems.csv (%d):\n%s", resp.StatusCode, body)
	}

	resp, _ = env.PostForm(t, lead, jobPath+"/start", map[string][]string{"batchSize": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	d = imWaitState(t, env, lead, jobPath, "done")
	if d.Find(`[data-testid="count-ok"]`).Text() != "2" || d.Find(`[data-testid="count-failed"]`).Text() != "0" {
		t.Errorf("ok %s failed %s; want 2, 0", d.Find(`[data-testid="count-ok"]`).Text(), d.Find(`[data-testid="count-failed"]`).Text())
	}
	resp, body = env.Get(t, lead, jobPath+"/results.csv")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 7 || lines[0] != "row,outcome,id,error" {
		t.Fatalf("results.csv:\n%s", body)
	}
	wantOutcomes := []string{"created", "skipped", "skipped", "created", "skipped", "skipped"}
	for i, l := range lines[1:] {
		f := strings.SplitN(l, ",", 4)
		if f[0] != fmt.Sprint(i+2) || f[1] != wantOutcomes[i] {
			t.Errorf("results line %d = %q; want row %d %s", i+1, l, i+2, wantOutcomes[i])
		}
	}
	// The formula was imported as a name (text), as typed.
	id, _ := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email == "new2@example.com" })
	if u, _ := env.API.GetEndUser(t.Context(), id); u.FirstName != `=HYPERLINK("http://evil")` {
		t.Errorf("new2 first name = %q", u.FirstName)
	}
	// Audit: upload, start and the end, in the lead's name.
	entries, err := env.Store.ListAudit(t.Context(), store.AuditFilter{TargetType: "job", Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.ActorID == "anonymous" || e.ActorID == "" {
			t.Errorf("%s has no actor", e.Action)
		}
	}
	if strings.Join(actions, ",") != "import.uploaded,import.started,import.done" {
		t.Errorf("audit = %v", actions)
	}
	// The list shows the job.
	_, body = env.Get(t, lead, "/imports")
	if imDoc(t, body).Find(`[data-testid="import-job-row"]`).Length() != 1 {
		t.Errorf("job not listed on /imports")
	}
}

// TestImportJobShowsWaitingForDixa: while Dixa answers 429 the polled job
// fragment says, in its live region, since when and why the job waits, and
// that the time left is paused; the line goes once the rows go through.
func TestImportJobShowsWaitingForDixa(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}, Client: []apiclient.Option{apiclient.WithRetries(0)}})
	lead := env.Login(t, "lead")
	file := "email,firstName\nwait1@example.com,A\nwait2@example.com,B\nwait3@example.com,C\n"
	resp, body := imUpload(t, env, lead, "wait.csv", []byte(file), "mode", "create", "batchSize", "2")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	imWaitState(t, env, lead, jobPath, "ready")

	t0 := time.Now().UTC()
	env.Sim.Storm429(2*time.Second, true)
	if resp, _ := env.PostForm(t, lead, jobPath+"/start", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	var line *goquery.Selection
	var html string
	// Polled at 4 a second: under the per-person budget (5 a second).
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && line == nil; time.Sleep(250 * time.Millisecond) {
		if resp, html = env.Get(t, lead, jobPath, "HX-Request", "true"); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", jobPath, resp.StatusCode)
		}
		if l := imDoc(t, html).Find(`[aria-live="polite"] [data-testid="job-waiting"]`); l.Length() == 1 {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("the job page never showed the waiting line:\n%s", html)
	}
	text := strings.Join(strings.Fields(line.Text()), " ")
	if !strings.HasPrefix(text, "Waiting for Dixa since ") || !strings.Contains(text, "request budget is used up") ||
		!strings.Contains(text, "continues by itself") || !strings.Contains(text, " UTC: ") {
		t.Errorf("waiting line = %q", text)
	}
	// The time shown is when the wait began (to the second).
	if i := strings.Index(text, "since "); i >= 0 {
		at, err := time.Parse("15:04:05", text[i+6:i+14])
		at = time.Date(t0.Year(), t0.Month(), t0.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.UTC)
		if err != nil || at.Before(t0.Truncate(time.Second)) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("waiting since %q; want the time of the first 429 (after %s)", text[i+6:i+14], t0.Format("15:04:05"))
		}
	}
	if !line.HasClass("notice") || !line.HasClass("warn") {
		t.Errorf("waiting line classes = %q; want notice warn", line.AttrOr("class", ""))
	}
	if r := line.AttrOr("data-reason", ""); r != "rate-limited" {
		t.Errorf("data-reason = %q, want rate-limited", r)
	}
	d := imDoc(t, html)
	if eta := d.Find(`[data-testid="eta"]`).Text(); !strings.Contains(eta, "paused") {
		t.Errorf("ETA while waiting = %q; want it paused", eta)
	}
	if _, ok := d.Find(`[data-testid="import-job"]`).Attr("hx-get"); !ok {
		t.Errorf("the page stopped polling while the job waits")
	}
	if strings.Contains(html, "Too Many Requests") {
		t.Errorf("the page shows Dixa's answer")
	}

	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		resp, html = env.Get(t, lead, jobPath, "HX-Request", "true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", jobPath, resp.StatusCode)
		}
		d = imDoc(t, html)
		if d.Find(`[data-testid="import-job"]`).AttrOr("data-state", "") == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job never finished after the storm:\n%s", html)
		}
	}
	if d.Find(`[data-testid="job-waiting"]`).Length() != 0 {
		t.Errorf("a finished job still shows the waiting line")
	}
	if got := d.Find(`[data-testid="count-ok"]`).Text(); got != "3" {
		t.Errorf("ok = %s, want 3", got)
	}
}

func TestImportUploadRefusals(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	lead := env.Login(t, "lead")
	big := bytes.Repeat([]byte("x@example.com,Name\n"), 21<<20/19+1)
	tests := []struct {
		name   string
		file   []byte
		fields []string
		status int
		want   string
	}{
		{"latin1", []byte("email,firstName\nj@example.com,J\xf8rgen\n"), nil, 422, "Row 2 is not valid UTF-8"},
		{"utf16", []byte("\xFF\xFEe\x00"), nil, 422, "UTF-16"},
		{"no header", []byte("a@example.com,Ann\n"), nil, 422, "must be a header"},
		{"too large", append([]byte("email,firstName\n"), big...), nil, 413, "larger than the 20 MB limit"},
		{"bad mode", []byte("email\na@example.com\n"), []string{"mode", "delete"}, 422, "creates or updates"},
		{"update without key", []byte("firstName\nAnn\n"), []string{"mode", "update"}, 422, "id (the Dixa id), email or externalId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields
			if fields == nil {
				fields = []string{"mode", "create"}
			}
			resp, body := imUpload(t, env, lead, "f.csv", tt.file, fields...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := imDoc(t, body).Find(`[data-testid="upload-error"]`).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("message %q, want %q", got, tt.want)
			}
		})
	}
	if n := len(env.Sim.Requests()); n != 0 {
		t.Errorf("refused uploads made %d upstream requests", n)
	}
}

func TestImportsAndExportAreForLeads(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 5}})
	for _, role := range []string{"viewer", "agent"} {
		c := env.Login(t, role)
		for _, p := range []string{"/imports", "/endusers/export.csv", "/imports/6f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a/results.csv"} {
			if resp, _ := env.Get(t, c, p); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", role, p, resp.StatusCode)
			}
		}
		if resp, _ := imUpload(t, env, c, "f.csv", []byte("email\na@example.com\n"), "mode", "create"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s upload: %d, want 403", role, resp.StatusCode)
		}
	}
	lead := env.Login(t, "lead")
	if resp, _ := env.Get(t, lead, "/imports/not-a-uuid"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bad job id: %d, want 404", resp.StatusCode)
	}
}

func TestExportCSV(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 230}})
	lead := env.Login(t, "lead")
	if _, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "=cmd|' /C calc'!A0", FirstName: "@SUM(1)", LastName: "-2+3", Email: "formula@example.com"}); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	resp, body := env.Get(t, lead, "/endusers/export.csv")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(body, "\uFEFFid,createdAt,displayName,") {
		t.Errorf("export starts %q", body[:min(60, len(body))])
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if got, want := len(lines)-1, env.Sim.UserCount(); got != want {
		t.Errorf("exported %d customers, want %d (all pages)", got, want)
	}
	for _, l := range lines {
		if strings.Contains(l, "formula@example.com") && !strings.Contains(l, `"'=cmd|' /C calc'!A0"`) && !strings.Contains(l, `'=cmd|`) {
			t.Errorf("formula not escaped: %s", l)
		}
		if strings.Contains(l, "formula@example.com") && (!strings.Contains(l, "'@SUM(1)") || !strings.Contains(l, "'-2+3")) {
			t.Errorf("cells not escaped: %s", l)
		}
	}
	if s := env.Sim.Stats(); s.Total.Requests != 3 {
		t.Errorf("export made %d requests; want 3 (pages of 100)", s.Total.Requests)
	}
	entries, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "endusers.exported"})
	if len(entries) != 1 || entries[0].Details["rows"] != fmt.Sprint(env.Sim.UserCount()) || entries[0].Details["query"] != "all" {
		t.Errorf("audit = %+v", entries)
	}

	// A search, with custom attributes: first the cost, then the file.
	resp, body = env.Get(t, lead, "/endusers/export.csv?q=formula@example.com&attrs=1")
	if resp.StatusCode != 200 || !strings.Contains(imDoc(t, body).Find(`[data-testid="export-confirm"]`).Text(), "one extra request per customer") {
		t.Fatalf("confirm page: %d\n%s", resp.StatusCode, body)
	}
	href, _ := imDoc(t, body).Find(`[data-testid="export-go"]`).Attr("href")
	resp, body = env.Get(t, lead, strings.TrimPrefix(href, env.Cfg.BasePath))
	lines = strings.Split(strings.TrimSpace(body), "\n")
	if resp.StatusCode != 200 || len(lines) != 2 || !strings.Contains(lines[0], ",attr.") {
		t.Errorf("export with attributes (%d):\n%s", resp.StatusCode, body)
	}
	// A phone that cannot be read is a 422, not an upstream call.
	if resp, _ := env.Get(t, lead, "/endusers/export.csv?q=12&by=phone"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad phone: %d, want 422", resp.StatusCode)
	}
}

// TestExportImportRoundTrip: a customer exported, edited in another column
// and imported again keeps the values the export escaped against formula
// injection (@alice, =1+2, +45…, -Smith), not with a quote in front.
func TestExportImportRoundTrip(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	lead := env.Login(t, "lead")
	orig := apiclient.CreateEndUserInput{DisplayName: "Before", FirstName: "=1+2", LastName: "-Smith",
		Email: "roundtrip@example.com", PhoneNumber: "+4520123456", ExternalID: "@alice"}
	created, err := env.API.CreateEndUser(t.Context(), orig)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := env.Get(t, lead, "/endusers/export.csv?q=roundtrip@example.com&by=email")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "'@alice") || !strings.Contains(body, "'=1+2") ||
		!strings.Contains(body, ",+4520123456,") || strings.Contains(body, "'+4520123456") {
		t.Fatalf("export (%d) did not escape the cells (all but the E.164 phone number):\n%s", resp.StatusCode, body)
	}
	edited := strings.Replace(body, "Before", "After", 1) // a person edits another column
	resp, body = imUpload(t, env, lead, "edited.csv", []byte(edited), "mode", "update")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	d := imWaitState(t, env, lead, jobPath, "ready")
	if got := d.Find(`[data-testid="count-invalid"]`).Text(); got != "0" {
		t.Fatalf("the re-imported export has %s invalid rows:\n%s", got, d.Find(`[data-testid="import-job"]`).Text())
	}
	if resp, _ := env.PostForm(t, lead, jobPath+"/start", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	imWaitState(t, env, lead, jobPath, "done")
	got, err := env.API.GetEndUser(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "After" || got.FirstName != orig.FirstName || got.LastName != orig.LastName ||
		got.PhoneNumber != orig.PhoneNumber || got.ExternalID != orig.ExternalID || got.Email != orig.Email {
		t.Errorf("after the round trip: display %q first %q last %q phone %q external %q email %q; want After and the rest unchanged",
			got.DisplayName, got.FirstName, got.LastName, got.PhoneNumber, got.ExternalID, got.Email)
	}
}

// simReads counts the simulator's list and single-customer reads.
func simReads(env *webtest.Env) (lists, gets int) {
	st := env.Sim.Stats()
	return st.Routes["GET /endusers"].Requests, st.Routes["GET /endusers/{userId}"].Requests
}

// previewRows reads the dry run's preview table: per row number, the
// customer's link and name, and its changes as "field: old → new".
func previewRows(d *goquery.Document) (nums []string, rows map[string][]string, links map[string]string) {
	rows, links = map[string][]string{}, map[string]string{}
	d.Find(`[data-testid="preview-row"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("data-row")
		nums = append(nums, n)
		a := s.Find(`[data-testid="preview-customer"]`)
		href, _ := a.Attr("href")
		links[n] = href + " " + strings.TrimSpace(a.Text())
		s.Find(`[data-testid="preview-change"]`).Each(func(_ int, c *goquery.Selection) {
			f, _ := c.Attr("data-field")
			old := strings.TrimSpace(c.Find(`[data-testid="preview-old"]`).Text())
			nw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.Find(`[data-testid="preview-new"]`).Text()), "→"))
			rows[n] = append(rows[n], f+": "+old+" → "+nw)
		})
		if nc := s.Find(`[data-testid="preview-nochange"]`); nc.Length() > 0 {
			rows[n] = append(rows[n], "no change")
		}
		if note := s.Find(`[data-testid="preview-note"]`); note.Length() > 0 {
			rows[n] = append(rows[n], "note: "+strings.TrimSpace(note.Text()))
		}
	})
	return nums, rows, links
}

// TestImportUpdatePreview: the dry run of an update shows, for its first
// rows, each customer (linked to the profile) and what the row would
// change, old → new, or "no change". Matched by email it reuses the
// lookups (no further read); matched by id it reads the first rows'
// customers only. Showing the page reads nothing from Dixa, and what
// customers wrote themselves is shown as text.
func TestImportUpdatePreview(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	lead := env.Login(t, "lead")
	var users []apiclient.EndUser
	for i := range 14 {
		in := apiclient.CreateEndUserInput{Email: fmt.Sprintf("pre%d@example.com", i), FirstName: fmt.Sprintf("First%d", i),
			LastName: fmt.Sprintf("Last%d", i), DisplayName: fmt.Sprintf("Person %d", i)}
		if i == 1 {
			in.DisplayName, in.LastName = `<script>alert("pwn")</script>`, `<img src=x onerror=alert(1)>`
		}
		u, err := env.API.CreateEndUser(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	check := func(t *testing.T, jobPath string) map[string][]string {
		t.Helper()
		d := imWaitState(t, env, lead, jobPath, "ready")
		nums, rows, links := previewRows(d)
		if len(nums) != 10 || nums[0] != "2" || nums[9] != "11" {
			t.Fatalf("previewed rows %v; want rows 2 to 11 (at most 10)", nums)
		}
		if links["2"] != env.Cfg.BasePath+"/endusers/"+users[0].ID+" Person 0" {
			t.Errorf("row 2 customer = %q; want the profile link and the name", links["2"])
		}
		if links["3"] != env.Cfg.BasePath+"/endusers/"+users[1].ID+` <script>alert("pwn")</script>` {
			t.Errorf("row 3 customer = %q; want the name as text", links["3"])
		}
		if !strings.Contains(d.Find(`[data-testid="preview-text"]`).Text(), "The other 2 rows are not compared") {
			t.Errorf("preview text = %q", d.Find(`[data-testid="preview-text"]`).Text())
		}
		return rows
	}

	t.Run("by email", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("email,firstName,lastName\n")
		for i, u := range users[:12] {
			switch i {
			case 0:
				fmt.Fprintf(&b, "%s,%s,%s\n", u.Email, u.FirstName, u.LastName) // no change
			case 1:
				fmt.Fprintf(&b, "%s,,Safe\n", u.Email)
			default:
				fmt.Fprintf(&b, "%s,%s,New%d\n", u.Email, u.FirstName, i)
			}
		}
		env.Sim.ResetStats()
		resp, body := imUpload(t, env, lead, "by-email.csv", []byte(b.String()), "mode", "update")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
		}
		jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
		rows := check(t, jobPath)
		if got := rows["2"]; len(got) != 1 || got[0] != "no change" {
			t.Errorf("row 2 = %q; want no change", got)
		}
		if got := rows["3"]; len(got) != 1 || got[0] != `lastName: <img src=x onerror=alert(1)> → Safe` {
			t.Errorf("row 3 = %q; want the hostile last name as text → Safe", got)
		}
		if got := rows["4"]; len(got) != 1 || got[0] != "lastName: Last2 → New2" {
			t.Errorf("row 4 = %q; want lastName: Last2 → New2 only (firstName is unchanged)", got)
		}
		if lists, gets := simReads(env); lists != 12 || gets != 0 {
			t.Errorf("the dry run made %d lookups and %d reads; want 12 lookups (one per email) and no read", lists, gets)
		}
		_, page := env.Get(t, lead, jobPath)
		if strings.Contains(page, `<script>alert("pwn")`) || strings.Contains(page, `<img src=x`) || !strings.Contains(page, "&lt;img src=x") {
			t.Errorf("the customers' own values are not escaped on the page")
		}
		if lists, gets := simReads(env); lists != 12 || gets != 0 {
			t.Errorf("showing the page read from Dixa: %d lookups, %d reads", lists-12, gets)
		}
	})

	t.Run("by id", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("id,lastName\n")
		for i, u := range users[:12] {
			if i == 0 {
				fmt.Fprintf(&b, "%s,%s\n", u.ID, u.LastName)
				continue
			}
			fmt.Fprintf(&b, "%s,Id%d\n", u.ID, i)
		}
		env.Sim.ResetStats()
		resp, body := imUpload(t, env, lead, "by-id.csv", []byte(b.String()), "mode", "update")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
		}
		jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
		rows := check(t, jobPath)
		if got := rows["2"]; len(got) != 1 || got[0] != "no change" {
			t.Errorf("row 2 = %q; want no change", got)
		}
		if got := rows["5"]; len(got) != 1 || got[0] != "lastName: Last3 → Id3" {
			t.Errorf("row 5 = %q; want lastName: Last3 → Id3", got)
		}
		for range 3 {
			env.Get(t, lead, jobPath)
		}
		if lists, gets := simReads(env); lists != 0 || gets != 10 {
			t.Errorf("the dry run and 3 page views made %d lookups and %d reads; want none and 10 (the previewed rows)", lists, gets)
		}
		d := imDoc(t, func() string { _, p := env.Get(t, lead, jobPath); return p }())
		if txt := d.Find(`[data-testid="check"]`).Text(); !strings.Contains(txt, "first 10 rows") {
			t.Errorf("check text = %q; want the cost of reading the first 10 rows", txt)
		}
	})
}
