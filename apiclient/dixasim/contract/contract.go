// Package contract checks HTTP traffic against Dixa's OpenAPI document (the
// beta spec, kept in this directory as openapi-beta.yaml and embedded, so
// the tests read nothing from outside the repository) with kin-openapi. It is imported by tests only: put Validator.Middleware in
// front of the simulator and every request the client sends and every
// response the simulator gives is validated.
//
// The vendor's document cannot be used as it is; the validator adjusts it
// in memory, for reasons that are themselves findings about the document:
//
//   - Object schemas are closed (additionalProperties: false) and the
//     undeclared `_type` is declared where Dixa sends it. The document
//     leaves every object open, so a renamed field (phone_number for
//     phoneNumber) would pass as an unknown extra plus a missing optional
//     one; closed, it is an error, in requests and in responses alike.
//   - The `_type` discriminators that Dixa sends but does not declare are
//     declared (Conversation, the bulk outcome and error unions, the
//     conversation link, the attribute input definition, a message's
//     attributes, its content and an email's content). Without them the
//     oneOf unions, whose variants differ only in optional fields, match
//     more than one variant and nothing validates; with them every value
//     is checked against the variant its `_type` names, and an unknown
//     `_type` is an error.
//   - A form submission's values (FormAttributeValue) stay undiscriminated:
//     the spec's example sends bare strings and lists where the schema
//     declares {"value": …} objects, so the wire form is unknown. The
//     declared objects still tell themselves apart by shape, unless their
//     list is empty.
//   - entityType of anonymization requests is declared as a union of empty
//     objects but every example (and Dixa) sends a string.
//   - The custom-attributes patch map is declared Map[UUID,
//     Option[AttributeValue]]: null (clear) is allowed.
//   - Timestamps use both "…Z" and Java's "…Z[GMT]" style; the date-time
//     format accepts both, and uuid formats are checked.
//   - The servers entry (https://dev.dixa.io) is dropped so any host
//     matches, and /v1 paths are looked up as /beta.
package contract

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
)

// EnvSpecPath names the environment variable that overrides the document:
// a path to another copy (a newer vendor version, say) to test against.
const EnvSpecPath = "DIXA_OPENAPI"

// SpecFile is the document's file name in this package's directory.
const SpecFile = "openapi-beta.yaml"

// spec is Dixa's OpenAPI document (beta), embedded: the tests need no file
// beside the repository and no particular working directory.
//
//go:embed openapi-beta.yaml
var spec []byte

// Spec returns a copy of the embedded document.
func Spec() []byte { return bytes.Clone(spec) }

// SpecPath says which document NewValidator("") loads: $DIXA_OPENAPI if
// set, else "" for the embedded copy.
func SpecPath() (string, error) {
	return os.Getenv(EnvSpecPath), nil
}

// Validator validates requests and responses against the document. It is
// safe for concurrent use.
type Validator struct {
	router routers.Router
	opts   *openapi3filter.Options
}

// NewValidator loads the document at specPath ("" means SpecPath(): the
// embedded copy unless $DIXA_OPENAPI names another), with example
// validation off, and adjusts it as described in the package documentation.
func NewValidator(specPath string) (*Validator, error) {
	if specPath == "" {
		var err error
		if specPath, err = SpecPath(); err != nil {
			return nil, err
		}
	}
	loader := openapi3.NewLoader()
	var doc *openapi3.T
	var err error
	if specPath == "" {
		specPath = "embedded " + SpecFile
		doc, err = loader.LoadFromData(spec)
	} else {
		doc, err = loader.LoadFromFile(specPath)
	}
	if err != nil {
		return nil, fmt.Errorf("contract: load %s: %w", specPath, err)
	}
	if err := adjust(doc); err != nil {
		return nil, fmt.Errorf("contract: adjust %s: %w", specPath, err)
	}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("contract: %s: %w", specPath, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:  requireAuthorization,
		SkipSettingDefaults: true,
		MultiError:          true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("date-time", openapi3.NewCallbackValidator(validDateTime)),
			openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(validUUID)),
		},
	}
	// Say where and why, without kin-openapi's dump of the whole schema.
	// For a oneOf, the origin says why the variant named by `_type` failed.
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		msg := fmt.Sprintf("at /%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
		if err.Origin != nil {
			msg += " (" + err.Origin.Error() + ")"
		}
		return msg
	})
	return &Validator{router: router, opts: opts}, nil
}

// requireAuthorization satisfies the ApiKeyAuth scheme when the header is
// there; whether the key is right is the server's business.
func requireAuthorization(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.RequestValidationInput.Request.Header.Get("Authorization") == "" {
		return errors.New("missing Authorization header")
	}
	return nil
}

// validDateTime accepts RFC 3339 with an optional Java zone id suffix
// ("2021-12-01T12:46:36.581Z[GMT]"), as Dixa sends both.
func validDateTime(s string) error {
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		s = s[:i]
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return fmt.Errorf("not a date-time: %q", s)
	}
	return nil
}

// validUUID accepts the canonical 36-character form.
func validUUID(s string) error {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
		return fmt.Errorf("not a uuid: %q", s)
	}
	return nil
}

// unions are the oneOf schemas Dixa tags with `_type`: discriminator value →
// component schema name.
var unions = map[string]map[string]string{
	"Conversation": {
		"AnonymizedConversation":        "AnonymizedConversation",
		"ChatConversation":              "ChatConversation",
		"ContactFormConversation":       "ContactFormConversation",
		"EmailConversation":             "EmailConversation",
		"FacebookMessengerConversation": "FacebookMessengerConversation",
		"GenericConversation":           "GenericConversation",
		"MessengerConversation":         "MessengerConversation",
		"PstnPhoneConversation":         "PstnPhoneConversation",
		"SmsConversation":               "SmsConversation",
		"TwitterConversation":           "TwitterConversation",
		"WhatsAppConversation":          "WhatsAppConversation",
	},
	"BulkActionOutcome_BulkError_EndUser": {
		"BulkActionSuccess": "BulkActionSuccess_BulkError_EndUser",
		"BulkActionFailure": "BulkActionFailure_BulkError_EndUser",
	},
	"BulkError": {
		"EmptyPatchSet":   "EmptyPatchSet",
		"ErrorResponse":   "ErrorResponse",
		"Infrastructure":  "Infrastructure",
		"Integrity":       "Integrity",
		"InvalidArgument": "InvalidArgument",
		"NotFound":        "NotFound1",
		"Validation":      "Validation",
	},
	"ConversationLink": {
		"EmailForward":     "EmailForward",
		"FollowUp":         "FollowUp",
		"SideConversation": "SideConversation",
	},
	"Attributes": {
		"CallRecordingAttributes":     "CallRecordingAttributes",
		"ChatAttributes":              "ChatAttributes",
		"ContactFormAttributes":       "ContactFormAttributes",
		"EmailAttributes":             "EmailAttributes",
		"FacebookMessengerAttributes": "FacebookMessengerAttributes",
		"GenericAttributes":           "GenericAttributes",
		"MessengerFormAttributes":     "MessengerFormAttributes",
		"PhoneAttributes":             "PhoneAttributes",
		"SmsAttributes":               "SmsAttributes",
		"TranscriptAttributes":        "TranscriptAttributes",
		"TwitterAttributes":           "TwitterAttributes",
		"WhatsAppAttributes":          "WhatsAppAttributes",
	},
	"Content": {
		"Html":     "Html",
		"Markdown": "Markdown",
		"Text":     "Text",
	},
	"EmailContent": {
		"Regular":  "Regular",
		"TooLarge": "TooLarge",
	},
	"CustomAttributeInputDefinition": {
		"Select": "Select1",
		"Text":   "Text2",
	},
}

// adjust fixes the document in memory (see the package documentation).
// Schemas are changed in place, because every $ref to them shares the
// value.
func adjust(doc *openapi3.T) error {
	doc.Servers = nil
	schemas := doc.Components.Schemas
	get := func(name string) (*openapi3.Schema, error) {
		ref, ok := schemas[name]
		if !ok || ref.Value == nil {
			return nil, fmt.Errorf("schema %s not found", name)
		}
		return ref.Value, nil
	}
	for name, mapping := range unions {
		s, err := get(name)
		if err != nil {
			return err
		}
		d := &openapi3.Discriminator{PropertyName: "_type", Mapping: map[string]openapi3.MappingRef{}}
		for tag, target := range mapping {
			v, err := get(target)
			if err != nil {
				return err
			}
			ref := "#/components/schemas/" + target
			if !oneOfHas(s, ref) {
				return fmt.Errorf("%s has no oneOf %s", name, ref)
			}
			d.Mapping[tag] = openapi3.MappingRef{Ref: ref, Value: v}
		}
		s.Discriminator = d
		for tag := range mapping {
			v := d.Mapping[tag].Value
			if v.Properties == nil {
				v.Properties = openapi3.Schemas{}
			}
			v.Properties["_type"] = &openapi3.SchemaRef{Value: &openapi3.Schema{
				Type: &openapi3.Types{openapi3.TypeString},
				Enum: []any{tag},
			}}
		}
	}
	et, err := get("DeprecatedAnonymizationType")
	if err != nil {
		return err
	}
	*et = openapi3.Schema{
		Type:       &openapi3.Types{openapi3.TypeString},
		Enum:       []any{"ConversationAnonymizationType", "MessageAnonymizationType", "UnknownAnonymizationType", "UserAnonymizationType"},
		Deprecated: true,
	}
	m, err := get("Map_UUID_Option_AttributeValue")
	if err != nil {
		return err
	}
	if m.AdditionalProperties.Schema == nil || m.AdditionalProperties.Schema.Value == nil {
		return errors.New("Map_UUID_Option_AttributeValue has no additionalProperties schema")
	}
	m.AdditionalProperties.Schema.Value.Nullable = true

	seen := map[*openapi3.Schema]bool{}
	for _, ref := range schemas {
		closeObjects(ref, seen)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				for _, mt := range rb.Value.Content {
					closeObjects(mt.Schema, seen)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					closeObjects(mt.Schema, seen)
				}
			}
		}
	}
	return nil
}

// closeObjects sets additionalProperties: false on every object schema
// with declared properties and no additionalProperties of its own,
// recursively.
func closeObjects(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties.Has = openapi3.BoolPtr(false)
	}
	for _, p := range s.Properties {
		closeObjects(p, seen)
	}
	closeObjects(s.Items, seen)
	closeObjects(s.AdditionalProperties.Schema, seen)
	for _, o := range s.OneOf {
		closeObjects(o, seen)
	}
}

func oneOfHas(s *openapi3.Schema, ref string) bool {
	for _, r := range s.OneOf {
		if r.Ref == ref {
			return true
		}
	}
	return false
}

// Exchange is one request and its response, as the validator sees them.
type Exchange struct {
	Request      *http.Request // with the body readable
	RequestBody  []byte
	Status       int
	Header       http.Header
	ResponseBody []byte
}

// find looks r up in the document, mapping /v1 to /beta.
func (v *Validator) find(r *http.Request, body []byte) (*http.Request, *routers.Route, map[string]string, error) {
	vr := r.Clone(r.Context())
	vr.URL.Path = betaPath(r.URL.Path)
	vr.URL.RawPath = ""
	vr.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(vr)
	return vr, route, params, err
}

func betaPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		return "/beta/" + rest
	}
	return p
}

// ValidateRequest checks a request (with its body) against the document.
func (v *Validator) ValidateRequest(r *http.Request, body []byte) error {
	vr, route, params, err := v.find(r, body)
	if err != nil {
		return fmt.Errorf("%s %s: not in the document: %w", r.Method, r.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: v.opts}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err)
	}
	return nil
}

// ValidateResponse checks a response against the document. A status the
// operation does not document (the gateway's 401 and 429, 404 where the
// spec lists none, injected 5xx) must still carry Dixa's error shape,
// {"message": string}.
func (v *Validator) ValidateResponse(x Exchange) error {
	vr, route, params, err := v.find(x.Request, x.RequestBody)
	if err != nil {
		return fmt.Errorf("%s %s: not in the document: %w", x.Request.Method, x.Request.URL.Path, err)
	}
	where := fmt.Sprintf("%s %s → %d", x.Request.Method, x.Request.URL.Path, x.Status)
	if route.Operation.Responses.Status(x.Status) == nil {
		if x.Status < 400 {
			return fmt.Errorf("%s: status not in the document", where)
		}
		return checkMessage(where, x.Header, x.ResponseBody)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: v.opts},
		Status:                 x.Status,
		Header:                 x.Header,
		Body:                   io.NopCloser(bytes.NewReader(x.ResponseBody)),
		Options:                v.opts,
	}
	if err := openapi3filter.ValidateResponse(x.Request.Context(), in); err != nil {
		return fmt.Errorf("%s: %w\nbody: %s", where, err, truncate(x.ResponseBody))
	}
	if x.Status >= 400 {
		return checkMessage(where, x.Header, x.ResponseBody)
	}
	return nil
}

// checkMessage checks an error body: JSON, exactly {"message": "<non-empty>"}.
func checkMessage(where string, h http.Header, body []byte) error {
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%s: error body Content-Type %q, want application/json", where, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("%s: error body is not JSON: %w: %s", where, err, truncate(body))
	}
	msg, ok := m["message"].(string)
	if !ok || msg == "" || len(m) != 1 {
		return fmt.Errorf(`%s: error body %s, want {"message": "…"} only`, where, truncate(body))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// Middleware validates every request and every response passing through
// it, reporting violations with t.Errorf. Put it in front of the simulator
// when testing the client: a request that breaks the document is the
// client's bug.
func (v *Validator) Middleware(t testing.TB, next http.Handler) http.Handler {
	return v.middleware(t, next, true)
}

// LenientMiddleware validates every response, but lets requests break the
// document — for testing the simulator's error paths with deliberately bad
// requests. Such a request must then be refused with a 4xx status.
func (v *Validator) LenientMiddleware(t testing.TB, next http.Handler) http.Handler {
	return v.middleware(t, next, false)
}

func (v *Validator) middleware(t testing.TB, next http.Handler, strict bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("contract: read request body: %v", err)
			return
		}
		_ = r.Body.Close()
		reqErr := v.ValidateRequest(r, body)
		if reqErr != nil && strict {
			t.Errorf("contract: request breaks the document: %v", reqErr)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		respBody := rec.Body.Bytes()

		x := Exchange{Request: r, RequestBody: body, Status: res.StatusCode, Header: res.Header, ResponseBody: respBody}
		switch {
		case reqErr != nil && res.StatusCode < 400:
			t.Errorf("contract: request breaks the document (%v) but was answered %d", reqErr, res.StatusCode)
		case errors.As(reqErr, new(*routers.RouteError)):
			// No operation to validate against: an error body is all
			// that can be checked.
			if err := checkMessage(r.Method+" "+r.URL.Path, res.Header, respBody); err != nil {
				t.Errorf("contract: %v", err)
			}
		default:
			if err := v.ValidateResponse(x); err != nil {
				t.Errorf("contract: response breaks the document: %v", err)
			}
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(respBody)
	})
}
