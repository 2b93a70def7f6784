package importjob

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/customer"
)

// PreviewRows is how many rows of an update the dry run compares with
// their customers in Dixa, to show what each would change.
const PreviewRows = 10

// previewCandidates is how many of the first rows without a problem the
// check keeps in memory for the preview: some of them may turn out not
// found or ambiguous.
const previewCandidates = 3 * PreviewRows

// FieldChange is one field an update row would change: its current value
// in Dixa and the row's, clipped for display ("" is empty).
type FieldChange struct {
	Field string `json:"field"`          // the API's name, or the custom attribute's name
	Attr  bool   `json:"attr,omitempty"` // a custom attribute
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// RowPreview is what an update row would change on its customer, as the
// dry run found the customer in Dixa. No Changes (and no Note) means the
// row would change nothing.
type RowPreview struct {
	Num     int           `json:"row"`
	ID      string        `json:"id"`
	Name    string        `json:"name,omitempty"` // the customer's name in the console, clipped
	Changes []FieldChange `json:"changes,omitempty"`
	// Note says why the row could not be compared (its customer was not
	// found or could not be read); safe to show.
	Note string `json:"note,omitempty"`
}

// Notes of a row that could not be compared.
const (
	NoteNotFound   = "No customer in Dixa has this id: the row will fail when it is sent."
	NoteUnreadable = "The customer could not be read from Dixa, so this row is not compared."
)

// previewFields are the end-user fields in the order the preview lists them.
var previewFields = []customer.Field{customer.DisplayName, customer.FirstName, customer.MiddleNames, customer.LastName,
	customer.Email, customer.PhoneNumber, customer.AdditionalEmails, customer.AdditionalPhoneNumbers,
	customer.ExternalID, customer.AvatarURL}

// Diff lists what a row would change on customer u: the fields its patch
// sets to another value than u has (a field the patch leaves out is
// unchanged; one it sets empty is cleared), in the form's order, then the
// custom attributes (by definition id) whose value differs, by name. names
// maps definition ids to attribute names. Values are compared whole and
// clipped for display afterwards.
func Diff(u apiclient.EndUser, p apiclient.PatchEndUserInput, attrs map[string]apiclient.AttributeValue, names map[string]string) []FieldChange {
	var out []FieldChange
	for _, f := range previewFields {
		v, set := customer.Patched(p, f)
		if !set {
			continue
		}
		old := customer.Held(f, u)
		if sameValue(old, v) {
			continue
		}
		out = append(out, FieldChange{Field: string(f), Old: showValue(old), New: showValue(v)})
	}
	var ac []FieldChange
	for id, v := range attrs {
		cur := heldAttr(u, id)
		if sameAttr(cur, v) {
			continue
		}
		name := names[id]
		if name == "" && cur != nil {
			name = cur.Name
		}
		if name == "" {
			name = id
		}
		var old string
		if cur != nil && cur.Value.IsSet {
			old = cur.Value.String()
		}
		ac = append(ac, FieldChange{Field: clip(name), Attr: true, Old: clip(old), New: clip(v.String())})
	}
	slices.SortFunc(ac, func(a, b FieldChange) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Old, b.Old), strings.Compare(a.New, b.New))
	})
	return append(out, ac...)
}

// sameValue compares two values of a field; an empty single value and an
// empty list are the same as nothing.
func sameValue(a, b []string) bool {
	return slices.Equal(nonEmpty(a), nonEmpty(b))
}

func nonEmpty(v []string) []string {
	if len(v) == 1 && v[0] == "" {
		return nil
	}
	if len(v) == 0 {
		return nil
	}
	return v
}

// showValue is a value for display: a list joined with commas, clipped.
func showValue(v []string) string { return clip(strings.Join(nonEmpty(v), ", ")) }

// heldAttr is u's value of the attribute with definition id, or nil.
func heldAttr(u apiclient.EndUser, id string) *apiclient.CustomAttribute {
	for i := range u.CustomAttributes {
		if u.CustomAttributes[i].ID == id {
			return &u.CustomAttributes[i]
		}
	}
	return nil
}

// sameAttr reports whether setting v leaves the held value cur (nil: none)
// as it is.
func sameAttr(cur *apiclient.CustomAttribute, v apiclient.AttributeValue) bool {
	held := cur != nil && cur.Value.IsSet && (cur.Value.Text != "" || len(cur.Value.Select) > 0)
	set := v.IsSet && (v.Text != "" || len(v.Select) > 0)
	switch {
	case !held || !set:
		return held == set
	case v.IsSelect != cur.Value.IsSelect:
		return false
	case v.IsSelect:
		return slices.Equal(v.Select, cur.Value.Select)
	}
	return v.Text == cur.Value.Text
}

// comparePreview is a preview of row as it would change customer u.
func comparePreview(j Job, row Row, u apiclient.EndUser) RowPreview {
	return RowPreview{Num: row.Num, ID: u.ID, Name: clip(customer.Name(u)),
		Changes: Diff(u, row.Item.Patch, row.Item.Attrs, j.AttrNames)}
}

// MentionedIn reports whether a row's preview holds one of the needles:
// a whole value, or a text needle anywhere in a name or value.
func (n Needles) MentionedIn(p RowPreview) bool {
	texts := []string{p.Name, p.ID}
	for _, c := range p.Changes {
		texts = append(texts, c.Old, c.New)
		// A list is shown joined: look at its items one by one too.
		texts = append(texts, strings.Split(c.Old, ", ")...)
		texts = append(texts, strings.Split(c.New, ", ")...)
	}
	for _, s := range texts {
		if s == "" {
			continue
		}
		b, _ := json.Marshal(s)
		for _, x := range n.Payload {
			if strings.EqualFold(string(b), x.Raw) {
				return true
			}
		}
		if contains(s, n.Text) {
			return true
		}
	}
	return false
}

// ScrubPreview drops from j's preview the rows that hold one of the
// needles, and reports how many it dropped.
func ScrubPreview(j *Job, n Needles) int {
	before := len(j.Preview)
	j.Preview = slices.DeleteFunc(j.Preview, n.MentionedIn)
	if len(j.Preview) == 0 {
		j.Preview = nil
	}
	return before - len(j.Preview)
}

// preview compares the first rows of an update that will be sent with
// their customers. A customer the lookups or the scan already read is
// reused; one request (in the low-priority lane) reads a customer that was
// not read yet (match by id) or whose custom attributes are needed (list
// answers leave them out). It stops, with the context's error, only when
// the check must stop.
func (c *checkRun) preview(cands []Row) error {
	c.j.Preview, c.j.PreviewReads = nil, 0
	for _, row := range cands {
		if len(c.j.Preview) == PreviewRows {
			break
		}
		id := row.Item.ID
		u, have := c.users[row.Num]
		if c.j.MatchBy != MatchID {
			ms := c.found[row.Num]
			if len(ms) != 1 {
				continue // not found or ambiguous: a problem, never sent
			}
			id = ms[0].id
		}
		if !have || u.ID != id || len(row.Item.Attrs) > 0 {
			got, note, err := c.get(id)
			if err != nil {
				return err
			}
			if note != "" {
				c.j.Preview = append(c.j.Preview, RowPreview{Num: row.Num, ID: id, Note: note})
				continue
			}
			u = got
		}
		c.j.Preview = append(c.j.Preview, comparePreview(c.j, row, u))
	}
	return nil
}

// get reads one customer for the preview, waiting while Dixa cannot take
// the request. A customer Dixa does not find or refuses to show gets a
// note instead; an error is returned only when the check must stop.
func (c *checkRun) get(id string) (apiclient.EndUser, string, error) {
	for {
		u, err := c.r.API.GetEndUser(c.lctx, id)
		c.j.PreviewReads++
		if c.j.CheckMethod == CheckPreview {
			c.j.CheckDone++
		}
		switch {
		case err == nil:
			return u, "", nil
		case c.ctx.Err() != nil:
			return u, "", c.ctx.Err()
		case errors.Is(err, apiclient.ErrNotFound):
			return u, NoteNotFound, nil
		case !retryable(err):
			c.r.Log.Warn("import dry run: customer not read for the preview", "job", c.j.ID, "err", err)
			return u, NoteUnreadable, nil
		}
		c.wait.sleep(c.ctx, err)
	}
}
