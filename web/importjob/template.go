package importjob

import (
	"io"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/customer"
)

// templateColumns are the standard columns of the template file, named as
// the import reads them; id is only read by updates.
var templateColumns = []string{"id", "email", "phoneNumber", "firstName", "lastName", "displayName", "middleNames",
	"additionalEmails", "additionalPhoneNumbers", "avatarUrl", "externalId"}

// AttrColumn is a custom attribute an import can set: its column header
// (attr.<identifier>), its label, and for a Select the values it accepts
// (active options, nested ones as a path joined by "/").
type AttrColumn struct {
	Header, Label, Description string
	Select                     bool
	Values                     []string
}

// AttrColumns are the custom attributes an import can set: customer
// (Contact) attributes that are neither archived nor deactivated, in the
// order Dixa lists them.
func AttrColumns(defs []apiclient.CustomAttributeDefinition) []AttrColumn {
	var out []AttrColumn
	for _, d := range defs {
		if d.EntityType != apiclient.EntityContact || d.IsArchived || d.IsDeactivated {
			continue
		}
		c := AttrColumn{Header: "attr." + d.Identifier, Label: d.Label, Description: d.Description,
			Select: d.InputDefinition.Type == apiclient.InputSelect}
		for _, o := range customer.Options(d.InputDefinition.Options) {
			if c.Select && o.Active {
				c.Values = append(c.Values, strings.Join(o.Path, "/"))
			}
		}
		out = append(out, c)
	}
	return out
}

// WriteTemplate writes the template CSV: one header row with the standard
// columns and a column per custom attribute an import can set.
func WriteTemplate(w io.Writer, defs []apiclient.CustomAttributeDefinition) error {
	cols := append([]string(nil), templateColumns...)
	for _, c := range AttrColumns(defs) {
		cols = append(cols, c.Header)
	}
	cw := NewWriter(w)
	if err := cw.Write(cols...); err != nil {
		return err
	}
	return cw.Flush()
}
