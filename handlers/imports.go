package handlers

import (
	"context"
	"errors"
	"fmt"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/customer"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// Waker is told when a job was started (the import runner).
type Waker interface{ Wake() }

// Imports serves CSV bulk imports (leads only): upload and dry run, start,
// pause, cancel, progress and per-row results. The work itself is done by
// an importjob.Runner in the background.
type Imports struct {
	Store importjob.Store
	// Defs reads attr.<identifier> columns (definitions.go's interface):
	// one request per upload that has such columns.
	Defs   customer.DefinitionLister
	Runner Waker
	Audit  AuditLogger
	// PhoneRegion reads phone numbers typed without a country code.
	PhoneRegion string
	// MaxBytes is the largest file accepted (default 20 MB).
	MaxBytes int64
	// RPS is the upstream budget, for time estimates (default 10).
	RPS float64
}

// DefaultImportMaxBytes is the default file size limit.
const DefaultImportMaxBytes = 20 << 20

func (h *Imports) maxBytes() int64 {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultImportMaxBytes
}

func (h *Imports) rps() float64 {
	if h.RPS > 0 {
		return h.RPS
	}
	return 10
}

// Index serves GET /imports: the upload form and the recent jobs.
func (h *Imports) Index(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	h.index(w, r, http.StatusOK, views.ImportForm{Mode: string(importjob.ModeCreate), BatchSize: strconv.Itoa(importjob.DefaultBatchSize)})
}

func (h *Imports) index(w http.ResponseWriter, r *http.Request, status int, f views.ImportForm) {
	jobs, err := h.Store.Jobs(r.Context(), 50)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	f.MaxSize = strings.TrimSpace(humanSize(h.maxBytes()))
	v := views.ImportsPage{Form: f}
	if status == http.StatusOK { // a refused upload shown again spends no request
		v.Attrs, v.AttrsUnavailable = h.attrColumns(r)
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, views.ImportJobRow{ID: j.ID, FileName: j.FileName, ModeLabel: j.Mode.Label(),
			State: string(j.State), StateLabel: j.State.Label(), CreatedBy: j.CreatedByName, Created: j.CreatedAt,
			Total: j.Total, OK: j.OK, Failed: j.Failed, Invalid: j.Invalid})
	}
	respond.Page(w, r, status, "Imports", views.ImportsIndex(v), respond.Section("imports"))
}

// attrColumns reads today's custom attribute columns (one request), or
// says they could not be read.
func (h *Imports) attrColumns(r *http.Request) ([]importjob.AttrColumn, bool) {
	if h.Defs == nil {
		return nil, true
	}
	defs, err := h.Defs.ListCustomAttributeDefinitions(r.Context())
	if err != nil {
		reqctx.Logger(r.Context()).Warn("imports page: attribute definitions not loaded", "err", err)
		return nil, true
	}
	return importjob.AttrColumns(defs), false
}

// Template serves GET /imports/template.csv: a header row with the
// standard columns and the custom attributes an import can set today.
func (h *Imports) Template(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	defs, err := h.Defs.ListCustomAttributeDefinitions(r.Context())
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="customers-import-template.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := importjob.WriteTemplate(w, defs); err != nil {
		reqctx.Logger(r.Context()).Error("import template not written", "err", err)
	}
}

// Upload serves POST /imports (multipart: file, mode, batchSize): it reads
// and validates the file (the dry run; nothing is written to Dixa), stores
// it as a job and redirects to the job page. A file that cannot be
// imported re-renders the form with the reason (422, or 413 when too big).
func (h *Imports) Upload(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	form := views.ImportForm{Mode: string(importjob.ModeCreate), BatchSize: strconv.Itoa(importjob.DefaultBatchSize)}
	refuse := func(status int, msg string) {
		form.Error = msg
		h.index(w, r, status, form)
	}
	// Small parts in memory, the file spooled to a temporary file: memory
	// stays flat whatever the file size.
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			refuse(http.StatusRequestEntityTooLarge, "The file is larger than the "+humanSize(h.maxBytes())+" limit. Split it into smaller files and import them one after another.")
			return
		}
		refuse(http.StatusUnprocessableEntity, "Choose a CSV file to upload.")
		return
	}
	defer r.MultipartForm.RemoveAll()
	form.Mode = r.PostFormValue("mode")
	if bs := strings.TrimSpace(r.PostFormValue("batchSize")); bs != "" {
		form.BatchSize = bs
	}
	mode, err := importjob.ParseMode(form.Mode)
	if err != nil {
		refuse(http.StatusUnprocessableEntity, apperr.Message(err, ""))
		return
	}
	batch, err := importjob.ParseBatchSize(form.BatchSize)
	if err != nil {
		refuse(http.StatusUnprocessableEntity, apperr.Message(err, ""))
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		refuse(http.StatusUnprocessableEntity, "Choose a CSV file to upload.")
		return
	}
	defer file.Close()

	id, _ := reqctx.IdentityFrom(r.Context())
	j, err := importjob.Prepare(r.Context(), h.Store, importjob.Upload{
		File: file, FileName: cleanFileName(hdr.Filename), FileBytes: hdr.Size, Limit: h.maxBytes(),
		Mode: mode, BatchSize: batch, Region: h.PhoneRegion,
		Definitions: func(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error) {
			return h.Defs.ListCustomAttributeDefinitions(ctx)
		},
		CreatedBy: id.ID, CreatedByName: id.Name,
	})
	if fe, ok := apperr.As(err); ok {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, importjob.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		refuse(status, fe.Msg)
		return
	}
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	Record(r.Context(), h.Audit, "import.uploaded", "job", j.ID, "", map[string]string{
		"mode": string(j.Mode), "rows": strconv.Itoa(j.Total), "invalid": strconv.Itoa(j.Invalid), "columns": strings.Join(j.Columns, ","),
	})
	if j.State == importjob.StateChecking {
		h.wake()
	}
	respond.Redirect(w, r, "/imports/"+j.ID)
}

func (h *Imports) wake() {
	if h.Runner != nil {
		h.Runner.Wake()
	}
}

// job loads the job named in the path; a malformed id is a 404 without
// touching the store.
func (h *Imports) job(r *http.Request) (importjob.Job, error) {
	jid := r.PathValue("jid")
	if !customer.ValidID(jid) {
		return importjob.Job{}, respond.NotFound("There is no import with that ID.")
	}
	j, err := h.Store.Job(r.Context(), strings.ToLower(jid))
	if errors.Is(err, importjob.ErrNotFound) {
		return j, respond.NotFound("There is no import with that ID.")
	}
	return j, err
}

// Show serves GET /imports/{jid}: the dry run, progress and results. For
// htmx (the page polls itself every second while the job moves) it answers
// with the fragment only.
func (h *Imports) Show(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	j, err := h.job(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v, err := h.view(r.Context(), j)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	respond.Page(w, r, http.StatusOK, "Import "+j.FileName, h.content(r, v), respond.Section("imports"))
}

func (h *Imports) content(r *http.Request, v views.ImportJob) templ.Component {
	if respond.IsFragment(r) {
		return views.ImportJobFragment(v)
	}
	return views.ImportJobPage(v)
}

func (h *Imports) view(ctx context.Context, j importjob.Job) (views.ImportJob, error) {
	v := views.ImportJob{
		ID: j.ID, FileName: j.FileName, ModeLabel: j.Mode.Label(), State: string(j.State), StateLabel: j.State.Label(),
		CreatedBy: j.CreatedByName, Created: j.CreatedAt,
		Columns: j.Columns, Unknown: j.Unknown, Ignored: j.Ignored, Separator: j.Separator,
		Total: j.Total, Invalid: j.Invalid, Eligible: j.Eligible(), OK: j.OK, Failed: j.Failed, Remaining: j.Remaining(),
		AttrRows: j.AttrRows, BatchSize: j.BatchSize, Error: j.Error, Percent: j.Percent(),
		Checking: j.State == importjob.StateChecking, Poll: importjob.Active(j.State),
		CanStart: j.CanStart(), CanResume: j.CanResume(), CanPause: j.CanPause(), CanCancel: j.CanCancel(),
		HasResults: j.Started(), MatchText: matchText[j.MatchBy],
	}
	rate := h.rps()
	v.CheckText, v.CheckPercent = dryRunCheckText(j, rate)
	reqs := j.RequestsLeft()
	v.RunCost = fmt.Sprintf("Sending the remaining %s takes about %s to Dixa (%s per request, plus one per row with custom attributes): about %s at %g requests a second if no agent needs them.",
		plural(j.Remaining(), "row"), plural(reqs, "request"), plural(j.BatchSize, "row"), duration(float64(reqs)/rate), rate)
	now := time.Now()
	if j.State == importjob.StateRunning && j.Remaining() > 0 {
		v.ETA = "about " + duration(j.SecondsLeft(now, float64(reqs)/rate)) + " left"
	}
	if j.Waiting() {
		v.WaitingFor, v.Waiting = j.WaitingFor, waitingText(j, now)
		if v.ETA != "" {
			v.ETA = "time left paused while waiting for Dixa"
		}
	}
	if !j.Started() && len(j.Preview) > 0 {
		v.Preview, v.PreviewText = previewView(j)
	}
	if j.Invalid > 0 {
		groups, err := h.problemGroups(ctx, j)
		if err != nil {
			return v, err
		}
		v.Groups = groups
	}
	return v, nil
}

// previewView is the dry run's preview of what the first rows of an update
// would change, and the sentence that introduces it.
func previewView(j importjob.Job) ([]views.ImportPreviewRow, string) {
	rows := make([]views.ImportPreviewRow, 0, len(j.Preview))
	for _, p := range j.Preview {
		r := views.ImportPreviewRow{Num: p.Num, ID: p.ID, Name: p.Name, Note: p.Note, Changes: p.Changes}
		if customer.ValidID(p.ID) && p.Note != importjob.NoteNotFound {
			r.Path = "/endusers/" + url.PathEscape(p.ID)
		}
		rows = append(rows, r)
	}
	text := fmt.Sprintf("The first %s to be sent, compared with their customers as the dry run found them in Dixa. Only the fields a row changes are listed; an empty cell in the file changes nothing.",
		plural(len(rows), "row"))
	if rest := j.Eligible() - len(rows); rest > 0 {
		text += fmt.Sprintf(" The other %s are not compared.", plural(rest, "row"))
	}
	if j.PreviewReads > 0 && j.CheckMethod != importjob.CheckPreview {
		text += fmt.Sprintf(" Reading their custom attributes took %s (a lookup does not return them).", plural(j.PreviewReads, "request"))
	}
	return rows, text
}

// matchText says how the rows of an update are matched to customers.
var matchText = map[string]string{
	importjob.MatchID:         "Rows are matched to customers by the id column (the Dixa id); no lookup is needed.",
	importjob.MatchEmail:      "There is no id column, so rows are matched to customers by the email column: each email is looked up in Dixa first (the email itself is not changed). A row whose email matches no customer, or several, is skipped.",
	importjob.MatchExternalID: "There is no id or email column, so rows are matched to customers by the externalId column: each external ID is looked up in Dixa first (it is not changed). A row whose external ID matches no customer, or several, is skipped.",
}

// dryRunCheckText describes the dry run's check against Dixa, its cost at rate
// requests a second and, while it runs, its progress.
func dryRunCheckText(j importjob.Job, rate float64) (string, int) {
	checking := j.State == importjob.StateChecking
	switch j.CheckMethod {
	case importjob.CheckLookups:
		what := "customers that already exist with the same email, phone number or external ID"
		if j.Mode == importjob.ModeUpdate {
			what = "the customer of each row"
		}
		if !checking {
			return fmt.Sprintf("Checked against Dixa for %s: %s, one request each (about %s at %g requests a second, in the low-priority lane so that agents go first).",
				what, plural(j.CheckCost, "lookup"), duration(float64(j.CheckCost)/rate), rate), 0
		}
		pct := 0
		if j.CheckCost > 0 {
			pct = j.CheckDone * 100 / j.CheckCost
		}
		return fmt.Sprintf("Checking against Dixa for %s: %d of %d lookups done, one request each (about %s left at %g requests a second; agents go first).",
			what, j.CheckDone, j.CheckCost, duration(float64(j.CheckCost-j.CheckDone)/rate), rate), pct
	case importjob.CheckPreview:
		if !checking {
			return fmt.Sprintf("Read the customers of the first %s from Dixa to show what they would change, one request each (in the low-priority lane, so that agents go first).",
				plural(j.CheckCost, "row")), 0
		}
		pct := 0
		if j.CheckCost > 0 {
			pct = min(j.CheckDone*100/j.CheckCost, 100)
		}
		return fmt.Sprintf("Reading the customers of the first %s from Dixa to show what they would change, one request each (agents go first).",
			plural(j.CheckCost, "row")), pct
	case importjob.CheckScan:
		if !checking {
			return fmt.Sprintf("The file has too many identifiers to look up one by one, so the whole customer list was read from Dixa instead: %d requests of 100 customers.", j.CheckDone), 0
		}
		return fmt.Sprintf("The file has too many identifiers to look up one by one, so the console is reading the whole customer list from Dixa, 100 customers per request: %d requests so far (about %s per 10,000 customers; agents go first).", j.CheckDone, duration(100/rate)), 50
	}
	return "", 0
}

// problemGroups are the job's problems by kind, with the first rows of each.
func (h *Imports) problemGroups(ctx context.Context, j importjob.Job) ([]views.ProblemGroup, error) {
	first, err := importjob.FirstProblems(ctx, h.Store, j.ID, 5)
	if err != nil {
		return nil, err
	}
	var groups []views.ProblemGroup
	for _, kind := range problemOrder {
		if j.Problems[kind] == 0 {
			continue
		}
		g := views.ProblemGroup{Kind: kind, Label: importjob.KindLabels[kind], Count: j.Problems[kind]}
		for _, row := range first[kind] {
			g.Rows = append(g.Rows, views.ProblemRow{Num: row.Num, Problem: row.Problem})
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// waitingText is the status line of a job held up by Dixa: since when and
// why, from the error class the runner recorded (never Dixa's words).
func waitingText(j importjob.Job, now time.Time) string {
	since := j.WaitingSince.UTC()
	at := since.Format("15:04:05") + " UTC"
	if y, m, d := since.Date(); y != now.UTC().Year() || m != now.UTC().Month() || d != now.UTC().Day() {
		at = since.Format("2006-01-02 15:04:05") + " UTC"
	}
	why := "Dixa is failing or cannot be reached; retrying"
	switch j.WaitingFor {
	case importjob.WaitRateLimited:
		why = "the company's request budget is used up (Dixa is rate limiting)"
	case importjob.WaitRechecking:
		why = "Dixa did not confirm the last request, so its rows are being checked before anything is sent again"
	}
	return "Waiting for Dixa since " + at + ": " + why + ". The job continues by itself."
}

// problemOrder is the order in which problem kinds are shown.
var problemOrder = []string{importjob.KindExists, importjob.KindNotFound, importjob.KindAmbiguous, importjob.KindDuplicate, importjob.KindEmail,
	importjob.KindPhone, importjob.KindID, importjob.KindShape, importjob.KindLength, importjob.KindURL, importjob.KindAttribute, importjob.KindEmpty}

// Start serves POST /imports/{jid}/start: starts a dry-run job (optional
// batchSize) or resumes a paused one.
func (h *Imports) Start(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	j, err := h.job(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The form could not be read."))
		return
	}
	batch := 0
	if bs := strings.TrimSpace(r.PostFormValue("batchSize")); bs != "" && j.State == importjob.StateReady {
		if batch, err = importjob.ParseBatchSize(bs); err != nil {
			respond.Error(w, r, err)
			return
		}
	}
	j, err = importjob.Start(r.Context(), h.Store, j, batch)
	if err != nil {
		h.stateConflict(w, r, err)
		return
	}
	action := "import.started"
	if j.State != importjob.StateReady {
		action = "import.resumed"
	}
	Record(r.Context(), h.Audit, action, "job", j.ID, "", map[string]string{"mode": string(j.Mode), "rows": strconv.Itoa(j.Remaining()), "batchSize": strconv.Itoa(j.BatchSize)})
	h.wake()
	respond.Redirect(w, r, "/imports/"+j.ID)
}

// Pause serves POST /imports/{jid}/pause: the runner stops after the
// request in progress.
func (h *Imports) Pause(w http.ResponseWriter, r *http.Request) {
	h.transition(w, r, importjob.Pause, "import.paused")
}

// Cancel serves POST /imports/{jid}/cancel: rows not sent yet are skipped;
// rows already saved in Dixa stay saved.
func (h *Imports) Cancel(w http.ResponseWriter, r *http.Request) {
	h.transition(w, r, importjob.Cancel, "import.cancelled")
}

func (h *Imports) transition(w http.ResponseWriter, r *http.Request, act func(context.Context, importjob.Store, string) (importjob.Job, error), action string) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	j, err := h.job(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	j, err = act(r.Context(), h.Store, j.ID)
	if err != nil {
		h.stateConflict(w, r, err)
		return
	}
	Record(r.Context(), h.Audit, action, "job", j.ID, "", map[string]string{"mode": string(j.Mode), "ok": strconv.Itoa(j.OK), "failed": strconv.Itoa(j.Failed), "remaining": strconv.Itoa(j.Remaining())})
	respond.Redirect(w, r, "/imports/"+j.ID)
}

func (h *Imports) stateConflict(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, importjob.ErrStateChanged) {
		respond.Error(w, r, &respond.Err{Status: http.StatusConflict, Title: "The import has moved on",
			Message: "The import is no longer in a state that allows this (someone else may have changed it). Reload the page to see where it is.", Cause: err})
		return
	}
	respond.Error(w, r, err)
}

// Results serves GET /imports/{jid}/results.csv: row, outcome, id, error
// for every row, in the order of the input file (streamed from the store).
func (h *Imports) Results(w http.ResponseWriter, r *http.Request) {
	h.csv(w, r, "results", importjob.WriteResults)
}

// Problems serves GET /imports/{jid}/problems.csv: row, kind, problem for
// every row the dry run refuses.
func (h *Imports) Problems(w http.ResponseWriter, r *http.Request) {
	h.csv(w, r, "problems", importjob.WriteProblems)
}

func (h *Imports) csv(w http.ResponseWriter, r *http.Request, name string, write func(context.Context, importjob.Store, importjob.Job, io.Writer) error) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	j, err := h.job(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+j.ID[:8]+`-`+name+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := write(r.Context(), h.Store, j, w); err != nil {
		reqctx.Logger(r.Context()).Error("import csv failed mid-stream", "job", j.ID, "err", err)
		panic(http.ErrAbortHandler) // the download shows as failed, not as a short file
	}
}

// OnFinish is the runner's hook: the audit entry of a job that ended (done
// or failed), in the name of the lead who uploaded it.
func (h *Imports) OnFinish(ctx context.Context, j importjob.Job) {
	ctx = reqctx.WithIdentity(ctx, reqctx.Identity{ID: j.CreatedBy, Name: j.CreatedByName, Role: role.Lead, Via: "import job"})
	outcome := audit.OutcomeOK
	if j.State == importjob.StateFailed {
		outcome = audit.OutcomeFailed
	}
	Record(ctx, h.Audit, "import."+string(j.State), "job", j.ID, outcome, map[string]string{
		"mode": string(j.Mode), "rows": strconv.Itoa(j.Total), "ok": strconv.Itoa(j.OK), "failed": strconv.Itoa(j.Failed),
		"skipped": strconv.Itoa(j.Invalid), "requests": strconv.Itoa(j.Requests), "rechecked": strconv.Itoa(j.Rechecked),
	})
}

// duration formats seconds as "40 s", "3 min", "1 h 20 min".
func duration(sec float64) string {
	switch {
	case sec < 1:
		return "a second"
	case sec < 90:
		return strconv.Itoa(int(math.Ceil(sec))) + " s"
	case sec < 90*60:
		return strconv.Itoa(int(math.Ceil(sec/60))) + " min"
	}
	m := int(math.Ceil(sec / 60))
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

func humanSize(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

// cleanFileName keeps the base name of an uploaded file, bounded.
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len([]rune(s)) > 100 {
		s = string([]rune(s)[:100])
	}
	if s == "" {
		s = "upload.csv"
	}
	return s
}
