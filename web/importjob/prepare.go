package importjob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
)

// Defaults of an import.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 500
	// DefaultLookupThreshold: up to this many identifiers are checked one
	// request each; above it the dry run reads the whole customer list
	// instead (100 customers per request), which is cheaper for big files.
	DefaultLookupThreshold = 300
	// storeChunk is how many rows are written to the store at once.
	storeChunk = 1000
)

// Upload is an uploaded file and what to do with it.
type Upload struct {
	File      io.Reader
	FileName  string
	FileBytes int64
	Limit     int64 // maximum file size in bytes
	Mode      Mode
	BatchSize int
	Region    string
	// Definitions returns the custom attribute definitions; called (one
	// upstream request) only when the header has attr.* columns.
	Definitions func(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error)
	// LookupThreshold: see DefaultLookupThreshold (0: the default).
	LookupThreshold int
	CreatedBy       string
	CreatedByName   string
	Now             time.Time
}

// Prepare reads and validates an uploaded file (the dry run's local part)
// and stores it as a new job with every row and its problem, if any. Nothing
// is sent to Dixa except the one request for the attribute definitions. The
// job is created in StateReading, which no runner claims, and left in
// StateChecking when rows must be looked up in Dixa (create:
// customers that already exist; update by email or externalId: which
// customer each row is), else in StateReady. A file that cannot be imported
// at all is an *apperr.Error (wrapping ErrTooLarge when it is too big) and
// no job is kept.
func Prepare(ctx context.Context, st Store, u Upload) (Job, error) {
	rd, v, m, err := openUpload(ctx, u)
	if err != nil {
		return Job{}, err
	}
	j := newJob(u, rd, m, v)
	if err := st.CreateJob(ctx, j); err != nil {
		return Job{}, err
	}
	fail := func(err error) (Job, error) {
		st.DeleteJob(context.WithoutCancel(ctx), j.ID)
		return Job{}, err
	}
	if err := storeRows(ctx, st, &j, rd, v); err != nil {
		return fail(err)
	}
	if j.Total == 0 {
		return fail(fileErrorf("The file has a header but no rows."))
	}
	state := planCheck(&j, u, v)
	if err := st.SaveJob(ctx, j); err != nil {
		return fail(err)
	}
	// Only now may a runner (on any replica) claim the job: the rows and
	// the counts are complete.
	if j, err = st.SetState(ctx, j.ID, []State{StateReading}, state); err != nil {
		return fail(err)
	}
	return j, nil
}

// openUpload reads the file's header and matches it to fields (fetching
// the custom attribute definitions when it names attributes), and returns
// the reader positioned at the first row with the row validator.
func openUpload(ctx context.Context, u Upload) (*Reader, *Validator, *Mapping, error) {
	rd, err := NewReader(u.File, u.Limit)
	if err != nil {
		return nil, nil, nil, err
	}
	var defs []apiclient.CustomAttributeDefinition
	if NeedsAttributeDefinitions(rd.Header()) && u.Definitions != nil {
		if defs, err = u.Definitions(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("custom attribute definitions: %w", err)
		}
	}
	m, err := MapHeader(rd.Header(), defs)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := NewValidator(u.Mode, u.Region, m)
	if err != nil {
		return nil, nil, nil, err
	}
	return rd, v, m, nil
}

// newJob is the job of an upload before its rows are read.
func newJob(u Upload, rd *Reader, m *Mapping, v *Validator) Job {
	if u.Now.IsZero() {
		u.Now = time.Now()
	}
	bs := u.BatchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	j := Job{
		ID: uuid.NewString(), Mode: u.Mode, MatchBy: v.MatchBy, FileName: u.FileName, FileBytes: u.FileBytes,
		CreatedBy: u.CreatedBy, CreatedByName: u.CreatedByName, CreatedAt: u.Now, UpdatedAt: u.Now,
		State: StateReading, Header: slices.Clone(rd.Header()), Unknown: m.Unknown, Ignored: m.Ignored, Separator: string(rd.Comma()),
		BatchSize: min(bs, MaxBatchSize), Problems: map[string]int{},
	}
	for _, c := range m.Columns {
		if c.Field == FieldID && u.Mode == ModeCreate {
			continue
		}
		j.Columns = append(j.Columns, c.Name())
		if c.Attr != nil && u.Mode == ModeUpdate {
			if j.AttrNames == nil {
				j.AttrNames = map[string]string{}
			}
			j.AttrNames[c.Attr.ID] = cmp.Or(c.Attr.Label, c.Attr.Identifier)
		}
	}
	return j
}

// storeRows validates every data row and stores it, storeChunk rows at a
// time, counting rows and problems on j. Cells are read as the console's
// export wrote them (UnescapeCell). A row with a problem is never sent:
// it is stored with its original cells only, for problems.csv.
func storeRows(ctx context.Context, st Store, j *Job, rd *Reader, v *Validator) error {
	buf := make([]Row, 0, storeChunk)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := st.AddRows(ctx, j.ID, buf)
		buf = buf[:0]
		return err
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return err
		}
		if allEmpty(rec) {
			continue // a blank line of separators: not a row
		}
		for i, c := range rec {
			rec[i] = UnescapeCell(c)
		}
		row := v.Row(rd.Row(), rec)
		j.Total++
		if row.Problem != "" {
			j.Invalid++
			j.Problems[row.Kind]++
			row.Item = Item{Original: slices.Clone(rec)}
		} else if len(row.Item.Attrs) > 0 {
			j.AttrRows++
		}
		buf = append(buf, row)
		if len(buf) == storeChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// planCheck picks how the rows are checked against Dixa (see
// DefaultLookupThreshold) and returns the state the job starts in. An
// update matched by id looks nobody up: its check only reads the
// customers of the first rows, to show what they would change.
func planCheck(j *Job, u Upload, v *Validator) State {
	keys := 0
	switch {
	case u.Mode == ModeCreate:
		keys = len(v.emails) + len(v.phones) + len(v.extIDs)
	case v.MatchBy == MatchEmail:
		keys = len(v.emails)
	case v.MatchBy == MatchExternalID:
		keys = len(v.extIDs)
	}
	threshold := u.LookupThreshold
	if threshold <= 0 {
		threshold = DefaultLookupThreshold
	}
	switch {
	case j.Eligible() == 0:
		return StateReady
	case u.Mode == ModeUpdate && v.MatchBy == MatchID:
		j.CheckMethod, j.CheckCost = CheckPreview, min(j.Eligible(), PreviewRows)
	case keys == 0:
		return StateReady
	case keys <= threshold:
		j.CheckMethod, j.CheckCost = CheckLookups, keys
	default:
		j.CheckMethod, j.CheckCost = CheckScan, 0
	}
	return StateChecking
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		for i := 0; i < len(c); i++ {
			if c[i] != ' ' && c[i] != '\t' {
				return false
			}
		}
	}
	return true
}
