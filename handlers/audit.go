package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// AuditLogger is audit.Recorder under the name the handlers have used;
// *store.Store satisfies it.
type AuditLogger = audit.Recorder

// Record writes one audit entry through a; a nil a records nothing. It is
// audit.Record under the name the handlers use.
func Record(ctx context.Context, a AuditLogger, action, targetType, targetID string, outcome audit.Outcome, details map[string]string) error {
	return audit.Record(ctx, a, action, targetType, targetID, outcome, details)
}

// Audit serves the audit log to leads.
type Audit struct {
	Store audit.Lister
}

// allowed checks the lead role again in the handler (see allowed); the
// denial is audited when the store can write.
func (h *Audit) allowed(w http.ResponseWriter, r *http.Request) bool {
	rec, _ := h.Store.(audit.Recorder)
	return allowed(w, r, rec, role.Lead)
}

const auditPageSize = 50

// auditFilter reads the filters shared by the page and the CSV export
// from the query string (actor, action, targetType, target, from, to); a
// filter audit.Query refuses is a 400 with its message.
func auditFilter(r *http.Request) (audit.Filter, views.AuditFilter, error) {
	q := r.URL.Query()
	v := views.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		TargetType: strings.TrimSpace(q.Get("targetType")), Target: strings.TrimSpace(q.Get("target")),
		From: q.Get("from"), To: q.Get("to")}
	f, err := audit.Query{Actor: v.Actor, Action: v.Action, TargetType: v.TargetType, Target: v.Target, From: v.From, To: v.To}.Filter()
	if err != nil {
		return f, v, respond.BadRequest(apperr.Message(err, "A filter is not valid."))
	}
	return f, v, nil
}

// List serves GET /audit?actor=&action=&targetType=&target=&from=&to=&before=:
// the newest entries first, 50 a page, "before" being the cursor.
func (h *Audit) List(w http.ResponseWriter, r *http.Request) {
	if !h.allowed(w, r) {
		return
	}
	f, v, err := auditFilter(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if f.Inverted() {
		v.Error = "The 'from' day is after the 'to' day. Pick a 'from' day on or before the 'to' day."
		respond.Page(w, r, http.StatusUnprocessableEntity, "Audit log", views.AuditPage(v), respond.Section("audit"))
		return
	}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			respond.Error(w, r, respond.BadRequest("That page link is not valid."))
			return
		}
		f.BeforeSeq = n
		v.Paged = true
	}
	f.Limit = auditPageSize + 1
	entries, err := h.Store.ListAudit(r.Context(), f)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.NextURL = auditURL("/audit", v, strconv.FormatInt(entries[len(entries)-1].Seq, 10))
	}
	if v.Paged {
		v.FirstURL = auditURL("/audit", v, "")
	}
	v.CSVURL = auditURL("/audit.csv", v, "")
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow(e))
	}
	respond.Page(w, r, http.StatusOK, "Audit log", views.AuditPage(v), respond.Section("audit"))
}

func auditURL(path string, v views.AuditFilter, before string) string {
	return views.WithQuery(path, "actor", v.Actor, "action", v.Action, "targetType", v.TargetType, "target", v.Target,
		"from", v.From, "to", v.To, "before", before)
}

func auditRow(e audit.Entry) views.AuditRow {
	row := views.AuditRow{Seq: e.Seq, Time: e.Time, Actor: e.ActorID, ActorName: e.ActorName, Role: e.ActorRole, Via: e.ActorVia,
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Outcome: string(e.Outcome), CorrelationID: e.CorrelationID, Hash: e.Hash}
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		row.Details = append(row.Details, [2]string{k, e.Details[k]})
	}
	return row
}

// CSV serves GET /audit.csv with the filters of /audit: every matching
// entry, oldest first, columns time, actor, actorName, role, action,
// targetType, targetId, outcome, correlationId, hash.
func (h *Audit) CSV(w http.ResponseWriter, r *http.Request) {
	if !h.allowed(w, r) {
		return
	}
	f, _, err := auditFilter(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if f.Inverted() {
		respond.Error(w, r, respond.Unprocessable("The 'from' day is after the 'to' day."))
		return
	}
	f.Ascending, f.Limit = true, 1000
	first, err := h.Store.ListAudit(r.Context(), f)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "actor", "actorName", "role", "action", "targetType", "targetId", "outcome", "correlationId", "hash"})
	batch := first
	for len(batch) > 0 {
		for _, e := range batch {
			cw.Write([]string{e.Time.UTC().Format(time.RFC3339Nano), csvCell(e.ActorID), csvCell(e.ActorName), csvCell(e.ActorRole),
				csvCell(e.Action), csvCell(e.TargetType), csvCell(e.TargetID), csvCell(string(e.Outcome)), csvCell(e.CorrelationID), e.Hash})
		}
		if len(batch) < f.Limit {
			break
		}
		f.AfterSeq = batch[len(batch)-1].Seq
		if batch, err = h.Store.ListAudit(r.Context(), f); err != nil {
			// Headers are gone; end the file visibly incomplete.
			reqctx.Logger(r.Context()).Error("audit export interrupted", "err", err)
			cw.Write([]string{"# export interrupted: incomplete file, reference " + reqctx.RequestID(r.Context())})
			break
		}
	}
	cw.Flush()
}

// csvCell defuses spreadsheet formulas: a cell starting with = + - @ (or a
// tab or carriage return) is prefixed with an apostrophe (OWASP CSV
// injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auditActorLabel is how a person appears in lists: "Name (id)".
func auditActorLabel(id, name string) string {
	if name == "" || name == id {
		return id
	}
	return fmt.Sprintf("%s (%s)", name, id)
}
