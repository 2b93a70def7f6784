package importjob

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// EscapeCell defuses spreadsheet formula injection: a cell that starts
// with =, +, -, @, a tab or a carriage return is prefixed with a single
// quote, so that Excel, LibreOffice and Google Sheets show it as text
// instead of evaluating it (OWASP "CSV injection"). Customers write their
// own names, so every exported cell goes through it. A cell that already
// starts with quotes before one of those characters gets one more, so that
// UnescapeCell gives back every value as it was. A phone number in E.164
// (a "+" and 1 to 15 digits, nothing else) is not a formula and is written
// as it is, so that it can be copied and dialled from the file.
func EscapeCell(s string) string {
	if formulaLike(s) && !isE164(s) {
		return "'" + s
	}
	return s
}

// UnescapeCell undoes EscapeCell: it drops one leading single quote that
// precedes =, +, -, @, a tab or a carriage return (after any further
// quotes), so that an exported file imported again keeps its values.
func UnescapeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && formulaLike(s) {
		return s[1:]
	}
	return s
}

// isE164 reports whether s is a "+" followed by 1 to 15 digits only.
func isE164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formulaLike reports whether s, after any leading single quotes, starts
// with a character a spreadsheet may read as the start of a formula.
func formulaLike(s string) bool {
	s = strings.TrimLeft(s, "'")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Writer writes CSV with every cell escaped (EscapeCell).
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w: comma-separated, LF line ends
// (encoding/csv in CRLF mode would drop a lone CR inside a cell).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: csv.NewWriter(w)}
}

// Write writes one record.
func (w *Writer) Write(cells ...string) error {
	w.buf = w.buf[:0]
	for _, c := range cells {
		w.buf = append(w.buf, EscapeCell(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// ResultOutcome is a row's outcome as reported in results.csv: a row with
// a problem is skipped, a row never sent of a cancelled job is skipped, a
// row still waiting is pending.
func ResultOutcome(j Job, r Row) (outcome, msg string) {
	switch {
	case r.Problem != "":
		return OutcomeSkipped, r.Problem
	case r.Outcome != OutcomePending:
		return r.Outcome, r.Error
	case j.State == StateCancelled:
		return OutcomeSkipped, "The job was cancelled before this row was sent."
	case j.State == StateFailed:
		return OutcomeSkipped, "The job stopped before this row was sent."
	}
	return "pending", ""
}

// WriteResults writes results.csv: row, outcome, id, error, in the order
// of the input file, reading the rows from the store page by page.
func WriteResults(ctx context.Context, st Store, j Job, w io.Writer) error {
	cw := NewWriter(w)
	if err := cw.Write("row", "outcome", "id", "error"); err != nil {
		return err
	}
	return writeRows(ctx, st, j.ID, RowsAll, cw, func(r Row) []string {
		outcome, msg := ResultOutcome(j, r)
		return []string{strconv.Itoa(r.Num), outcome, r.DixaID, msg}
	})
}

// WriteProblems writes problems.csv: row, kind, problem, then the row's
// original cells under the file's own column names, for every row the dry
// run found a problem with (cells are empty where none are kept: a row
// refused by the check against Dixa, or one of an erased person).
func WriteProblems(ctx context.Context, st Store, j Job, w io.Writer) error {
	cw := NewWriter(w)
	if err := cw.Write(append([]string{"row", "kind", "problem"}, j.Header...)...); err != nil {
		return err
	}
	return writeRows(ctx, st, j.ID, RowsProblems, cw, func(r Row) []string {
		rec := []string{strconv.Itoa(r.Num), r.Kind, r.Problem}
		for i := range j.Header {
			cell := ""
			if i < len(r.Item.Original) {
				cell = r.Item.Original[i]
			}
			rec = append(rec, cell)
		}
		return rec
	})
}

// writeRows writes a record per row that passes filter, flushing after
// each chunk read from the store.
func writeRows(ctx context.Context, st Store, jobID string, filter int, cw *Writer, record func(Row) []string) error {
	err := forEachChunk(ctx, st, jobID, filter, func(rows []Row) error {
		for _, r := range rows {
			if err := cw.Write(record(r)...); err != nil {
				return err
			}
		}
		return cw.Flush()
	})
	if err != nil {
		return err
	}
	return cw.Flush()
}

// FirstProblems returns up to n problem rows per kind, for the dry-run
// page, looking at no more than the first 5,000 problem rows.
func FirstProblems(ctx context.Context, st Store, jobID string, n int) (map[string][]Row, error) {
	out := map[string][]Row{}
	after := 0
	for chunk := 0; chunk < 5; chunk++ { // bounded: the CSV has them all
		rows, err := st.Rows(ctx, jobID, RowQuery{Filter: RowsProblems, After: after, Limit: storeChunk})
		if err != nil || len(rows) == 0 {
			return out, err
		}
		full := true
		for _, r := range rows {
			after = r.Num
			if len(out[r.Kind]) < n {
				out[r.Kind] = append(out[r.Kind], r)
			}
		}
		for _, v := range out {
			if len(v) < n {
				full = false
			}
		}
		if full && len(out) >= len(KindLabels) {
			return out, nil
		}
	}
	return out, nil
}
