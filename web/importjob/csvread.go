// Package importjob is the logic behind CSV imports and exports of end users:
// reading and validating a CSV file, the durable import job (its rows and
// their outcomes live in a Store), the runner that sends the rows to Dixa in
// bulk requests inside the shared rate limit, and CSV writing with formula
// escaping. The HTTP handlers live in package handlers (imports.go,
// export.go); this package knows nothing about HTTP or storage: web/store
// implements its Store.
//
// What it keeps about people, and for how long: a row's payload (the values
// to send) only until the row has its outcome; a cancelled or finished
// job's rows keep their number, outcome, Dixa id, error and problem, which
// results.csv and problems.csv are made of. A problem may quote the value
// it is about (an email that is not valid, a key that matches no customer)
// and is kept as it is until the job is deleted. A job that is ready,
// paused or finished is deleted with its rows once it has not changed for
// the runner's Retention (30 days by default), and ScrubImportRows blanks
// a person's values everywhere once their erasure is verified.
package importjob

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/example/dixa-console/web/apperr"
)

// fileErrorf is a problem with the file as a whole: it cannot be imported
// at all. The message is for the person who uploaded it.
func fileErrorf(format string, args ...any) error {
	return &apperr.Error{Code: apperr.Invalid, Field: "file", Msg: fmt.Sprintf(format, args...)}
}

// ErrTooLarge is the cause of the *apperr.Error returned when the file is
// larger than the reader's limit.
var ErrTooLarge = errors.New("file too large")

// Reader reads an import file: UTF-8 with or without a byte order mark,
// comma- or semicolon-separated (sniffed from the header line), with RFC
// 4180 quoting. Rows are numbered as a spreadsheet shows them: the header
// is row 1.
type Reader struct {
	cr     *csv.Reader
	lim    *limitReader
	header []string
	row    int // spreadsheet row number of the last record returned
	comma  rune
}

// limitReader fails with ErrTooLarge once more than n bytes were read.
type limitReader struct {
	r io.Reader
	n int64 // bytes left
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: exactly n bytes is fine.
		var b [1]byte
		k, err := l.r.Read(b[:])
		if k > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// NewReader starts reading r, refusing files larger than limit bytes
// (limit <= 0: no limit). It reads the header line; an empty file, a file
// in UTF-16 or UTF-32, or a header that is not valid UTF-8 is an
// *apperr.Error.
func NewReader(r io.Reader, limit int64) (*Reader, error) {
	if limit <= 0 {
		limit = 1 << 62
	}
	lim := &limitReader{r: r, n: limit}
	br := bufio.NewReaderSize(lim, 64<<10)

	head, err := br.Peek(4)
	if err != nil && len(head) == 0 {
		if errors.Is(err, ErrTooLarge) {
			return nil, tooLarge(limit)
		}
		return nil, fileErrorf("The file is empty. The first line must name the columns, e.g. email,firstName,lastName.")
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3) // UTF-8 byte order mark (Excel's "CSV UTF-8")
	case bytes.HasPrefix(head, []byte{0x00, 0x00, 0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return nil, fileErrorf("The file is in UTF-32. Save it as \"CSV UTF-8\" and upload it again.")
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, fileErrorf("The file is in UTF-16 (Excel's \"Unicode text\"). Save it as \"CSV UTF-8\" and upload it again.")
	case len(head) >= 2 && (head[0] == 0 || head[1] == 0):
		return nil, fileErrorf("The file looks like UTF-16 without a byte order mark, or is not a text file. Save it as \"CSV UTF-8\" and upload it again.")
	}

	comma, err := sniffComma(br)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, tooLarge(limit)
		}
		return nil, err
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1 // ragged rows are reported per row, not fatal
	cr.ReuseRecord = true
	rd := &Reader{cr: cr, lim: lim, comma: comma}

	rec, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fileErrorf("The file is empty. The first line must name the columns, e.g. email,firstName,lastName.")
	case err != nil:
		return nil, rd.readError(err, limit)
	}
	rd.row = 1
	rd.header = make([]string, len(rec))
	for i, h := range rec {
		if !utf8.ValidString(h) {
			return nil, notUTF8(1)
		}
		rd.header[i] = h
	}
	return rd, nil
}

// sniffComma looks at the first line (up to 64 KiB, ignoring quoted text)
// and picks the separator that occurs more often there: ';' (what Excel
// writes in locales with a decimal comma) or ','.
func sniffComma(br *bufio.Reader) (rune, error) {
	buf, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		if len(buf) == 0 || errors.Is(err, ErrTooLarge) {
			return 0, err
		}
	}
	commas, semis, tabs := 0, 0, 0
	inQuote := false
scan:
	for _, c := range buf {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '\n' || c == '\r':
			break scan
		case c == ',':
			commas++
		case c == ';':
			semis++
		case c == '\t':
			tabs++
		}
	}
	switch {
	case semis > commas:
		return ';', nil
	case commas == 0 && semis == 0 && tabs > 0:
		return '\t', nil
	}
	return ',', nil
}

// Comma is the separator the file uses.
func (r *Reader) Comma() rune { return r.comma }

// Header is the header line's cells as written.
func (r *Reader) Header() []string { return r.header }

// Row is the spreadsheet row number of the record last returned by Next.
func (r *Reader) Row() int { return r.row }

// Next returns the next record, io.EOF at the end, or an *apperr.Error. The
// returned slice is reused by the next call. A ragged row is returned as
// is: the caller compares its length with the header.
func (r *Reader) Next() ([]string, error) {
	rec, err := r.cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, r.readError(err, -1)
	}
	r.row++
	for _, c := range rec {
		if !utf8.ValidString(c) {
			return nil, notUTF8(r.row)
		}
	}
	return rec, nil
}

func (r *Reader) readError(err error, limit int64) error {
	if errors.Is(err, ErrTooLarge) {
		return tooLarge(limit)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return fileErrorf("Line %d has a quote (\") inside a cell that is not quoted itself. Quote the whole cell and double the inner quote (\"\"), or remove it.", pe.Line)
		case errors.Is(pe.Err, csv.ErrQuote):
			return fileErrorf("A quoted cell starting on line %d is never closed, or has text right after its closing quote. Check the quotes (\") on that line.", pe.StartLine)
		}
		return fileErrorf("Line %d cannot be read as CSV.", pe.Line)
	}
	return err
}

func tooLarge(limit int64) error {
	return &apperr.Error{Code: apperr.Invalid, Field: "file", Cause: ErrTooLarge,
		Msg: "The file is larger than the " + humanBytes(limit) + " limit. Split it into smaller files and import them one after another."}
}

func notUTF8(row int) error {
	return fileErrorf("Row %s is not valid UTF-8: the file seems to be saved in another encoding (such as Windows-1252 or Latin-1). Save it as \"CSV UTF-8\" and upload it again; nothing was imported.", strconv.Itoa(row))
}

// humanBytes formats a byte count as "20 MB".
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
