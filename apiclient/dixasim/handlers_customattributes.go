package dixasim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// listDefinitions serves GET /{v}/custom-attributes: every definition of
// the organisation (Contact and Conversation, archived and deactivated
// ones too), not paginated, as in Dixa.
func (s *Sim) listDefinitions(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defs := slices.Clone(s.st.defs) // definitions themselves are read-only
	s.mu.RUnlock()
	writeData(w, http.StatusOK, defs)
}

// getDefinition serves GET /{v}/custom-attributes/{customAttributeId}. The
// id is a plain string in the spec, so anything unknown — uuid or not —
// is 404 (which the spec does not list; UNCONFIRMED).
func (s *Sim) getDefinition(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	d, ok := s.st.defByID[strings.ToLower(r.PathValue("customAttributeId"))]
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeData(w, http.StatusOK, d)
}

// msgPatchInvalid starts the 400 messages of a custom attribute patch (the
// spec's reason string).
const msgPatchInvalid = "Invalid input for patching"

// patchCustomAttributes serves PATCH /{v}/endusers/{userId}/custom-attributes.
// The body maps definition ids to a value: a string for Text, the path of
// option values (top level first) for Select, or null to clear. The whole
// patch is refused (400 "Invalid input for patching: …") when any entry
// names an unknown definition, a Conversation one, an archived or
// deactivated one, has the wrong type, is not a path through the options
// (any prefix of a path is accepted) or uses a deactivated option — all of
// this is UNCONFIRMED for Dixa. The answer lists the patched attributes
// that now have a value (cleared ones are left out), in definition order.
func (s *Sim) patchCustomAttributes(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	var in map[string]json.RawMessage
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, msgDecoding)
		return
	}
	for k := range in {
		if !isUUID(k) {
			writeError(w, http.StatusBadRequest, msgInvalidBody)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.st.users[id]
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	set := map[string]attrValue{}
	var clearIDs []string
	for _, k := range slices.Sorted(maps.Keys(in)) { // sorted: the same error for the same body
		d, ok := s.st.defByID[strings.ToLower(k)]
		if !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: unknown custom attribute [id=%s]", msgPatchInvalid, k))
			return
		}
		v, isNull, msg := parseAttrValue(d, in[k])
		if msg != "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: custom attribute [id=%s] %s", msgPatchInvalid, d.ID, msg))
			return
		}
		if isNull {
			clearIDs = append(clearIDs, d.ID)
		} else {
			set[d.ID] = v
		}
	}
	// Copy on write: readers may hold the old map.
	attrs := maps.Clone(u.attrs)
	if attrs == nil {
		attrs = map[string]attrValue{}
	}
	for _, k := range clearIDs {
		delete(attrs, k)
	}
	maps.Copy(attrs, set)
	u.attrs = attrs
	ids := map[string]bool{}
	for k := range set {
		ids[k] = true
	}
	out := s.st.attributes(u, ids)
	writeData(w, http.StatusOK, out)
}

// parseAttrValue checks raw as a value for d. It returns the value, or
// isNull for a clearing null, or a message saying what is wrong.
func parseAttrValue(d *definition, raw json.RawMessage) (v attrValue, isNull bool, msg string) {
	switch {
	case d.EntityType != apiclient.EntityContact:
		return v, false, "is not an end user (Contact) attribute"
	case d.IsArchived:
		return v, false, "is archived"
	case d.IsDeactivated:
		return v, false, "is deactivated"
	}
	if string(raw) == "null" {
		return v, true, ""
	}
	switch d.InputDefinition.Type {
	case apiclient.InputText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return v, false, "is a Text attribute: the value must be a string"
		}
		return attrValue{text: s}, false, ""
	case apiclient.InputSelect:
		var path []string
		if err := json.Unmarshal(raw, &path); err != nil || len(path) == 0 {
			return v, false, "is a Select attribute: the value must be a non-empty array of option values"
		}
		if msg := checkPath(d.InputDefinition.Options, path); msg != "" {
			return v, false, msg
		}
		return attrValue{path: path, isSelect: true}, false, ""
	}
	return v, false, "has an unsupported input type"
}

// checkPath checks that path walks down the option tree by option values.
func checkPath(opts []selectOption, path []string) string {
	for depth, value := range path {
		i := slices.IndexFunc(opts, func(o selectOption) bool { return o.Value == value })
		if i < 0 {
			return fmt.Sprintf("has no option %q at level %d", value, depth+1)
		}
		if opts[i].IsDeactivated {
			return fmt.Sprintf("option %q is deactivated", value)
		}
		opts = opts[i].NestedOptions
	}
	return ""
}
