package contract

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

var loadValidator = sync.OnceValues(func() (*Validator, error) { return NewValidator("") })

// recorder is a testing.TB that collects Errorf calls instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// canned answers every request with the same status and body.
func canned(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

const user = `"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","createdAt":"2020-12-16T09:41:43Z"`

func TestValidatorCatchesDrift(t *testing.T) {
	v, err := loadValidator()
	if err != nil {
		t.Fatal(err)
	}
	conv := `"id":1,"requesterId":"9deb936b-52e5-4c44-828d-4c8d48fe0c7e","channel":"Email","createdAt":"2020-12-16T09:41:43Z"`
	msg := `"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","authorId":"55a54008-ad1b-3589-aa21-0d2629c1df41","createdAt":"2021-12-01T12:47:36.581Z[GMT]"`
	tests := []struct {
		name, method, path, reqBody string
		auth                        bool
		strict                      bool
		status                      int
		body                        string
		wantErr                     string // substring of the reported error; "" = valid
	}{
		{"valid user", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 200,
			`{"data":{` + user + `,"phoneNumber":"+4512345678","customAttributes":[{"id":"4baa78bc-4815-4122-9c99-f71cd742d37b","name":"n","identifier":"i","value":["a","b"]}]}}`, ""},
		{"renamed field", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 200,
			`{"data":{` + user + `,"phone_number":"+4512345678"}}`, `property "phone_number" is unsupported`},
		{"bad date-time", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 200,
			`{"data":{"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","createdAt":"yesterday"}}`, "not a date-time"},
		{"bad uuid", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 200,
			`{"data":{"id":"42","createdAt":"2020-12-16T09:41:43Z"}}`, "not a uuid"},
		{"email conversation without toEmail", "GET", "/beta/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b/conversations", "", true, true, 200,
			`{"data":[{` + conv + `,"fromEmail":"a@b.example","integrationEmail":"c@d.example","_type":"EmailConversation"}]}`, `property "toEmail" is missing`},
		{"unknown conversation kind", "GET", "/beta/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b/conversations", "", true, true, 200,
			`{"data":[{` + conv + `,"_type":"CarrierPigeonConversation"}]}`, "discriminator"},
		{"chat message", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"content":{"value":"Hi","_type":"Text"},"direction":"Inbound","attachments":[],"isAutomated":false,"_type":"ChatAttributes"}}]}`, ""},
		{"email too large", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"emailContent":{"file":{"url":"https://files.example/x","prettyName":"Large"},"_type":"TooLarge"},"from":{"email":"a@b.example"},"isAutoReply":false,"_type":"EmailAttributes"}}]}`, ""},
		{"content without _type", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"content":{"value":"Hi"},"isAutomated":false,"_type":"ChatAttributes"}}]}`, "discriminator"},
		{"unknown message kind", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"_type":"FaxAttributes"}}]}`, "discriminator"},
		{"email attributes on a chat", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"from":{"email":"a@b.example"},"isAutoReply":false,"isAutomated":false,"_type":"ChatAttributes"}}]}`, `property "from" is unsupported`},
		{"attachment with a size", "GET", "/v1/conversations/42/messages", "", true, true, 200,
			`{"data":[{` + msg + `,"attributes":{"attachments":[{"url":"u","prettyName":"p","size":3}],"_type":"SmsAttributes"}}]}`, `property "size" is unsupported`},
		{"conversation id not a number", "GET", "/v1/conversations/abc/notes", "", true, true, 400,
			`{"message":"Invalid value for: path parameter conversationId"}`, "request breaks the document"},
		{"note without csid", "GET", "/v1/conversations/42/notes", "", true, true, 200,
			`{"data":[{"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","authorId":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","createdAt":"2021-01-20T09:00:00Z","message":"m"}]}`, `property "csid" is missing`},
		{"agent without email", "GET", "/v1/agents/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 200,
			`{"data":{` + user + `,"displayName":"A"}}`, `property "email" is missing`},
		{"zoned timestamps", "GET", "/v1/anonymization/request/6bf55369-a670-4e6b-9f70-ecdb9913549f", "", true, true, 200,
			`{"data":{"id":"6bf55369-a670-4e6b-9f70-ecdb9913549f","entityType":"UserAnonymizationType","_type":"User","initiatedAt":"2021-12-01T12:46:36.581Z[GMT]","targetEntityId":"x","requestedBy":"2b01e4c9-0c3a-47d4-9462-cd5a1a4687f5"}}`, ""},
		{"entityType as an object", "GET", "/v1/anonymization/request/6bf55369-a670-4e6b-9f70-ecdb9913549f", "", true, true, 200,
			`{"data":{"id":"6bf55369-a670-4e6b-9f70-ecdb9913549f","entityType":{},"_type":"User","initiatedAt":"2021-12-01T12:46:36.581Z[GMT]","targetEntityId":"x","requestedBy":"2b01e4c9-0c3a-47d4-9462-cd5a1a4687f5"}}`, "entityType"},
		{"bulk failure without message", "POST", "/v1/endusers/bulk", `{"data":[{}]}`, true, true, 201,
			`{"data":[{"_type":"BulkActionFailure","error":{"_type":"Validation","id":"x"}}]}`, `property "message" is missing`},
		{"error body with extra field", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 404,
			`{"message":"nope","_type":"NotFound"}`, `unsupported`},
		{"undocumented status without message", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 429,
			`Too Many Requests`, "not JSON"},
		{"undocumented status with message", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", true, true, 429,
			`{"message":"Too Many Requests"}`, ""},
		{"request with unknown field", "POST", "/v1/endusers", `{"phone":"+4512345678"}`, true, true, 201,
			`{"data":{` + user + `}}`, `property "phone" is unsupported`},
		{"null clears an attribute", "PATCH", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b/custom-attributes", `{"4baa78bc-4815-4122-9c99-f71cd742d37b":null}`, true, true, 200,
			`{"data":[]}`, ""},
		{"request without Authorization", "GET", "/v1/endusers/434ce9f5-14c8-4be1-a0a8-f755010deb9b", "", false, true, 200,
			`{"data":{` + user + `}}`, "Authorization"},
		{"bad request refused (lenient)", "GET", "/v1/endusers/42", "", true, false, 400,
			`{"message":"Invalid value for: path parameter userId"}`, ""},
		{"bad request accepted (lenient)", "GET", "/v1/endusers/42", "", true, false, 200,
			`{"data":{` + user + `}}`, "but was answered 200"},
		{"bad request (strict)", "GET", "/v1/endusers/42", "", true, true, 400,
			`{"message":"Invalid value for: path parameter userId"}`, "request breaks the document"},
		{"unknown path (lenient)", "GET", "/v1/nowhere", "", true, false, 404,
			`{"message":"The requested resource could not be found"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			h := v.LenientMiddleware(rec, canned(tt.status, tt.body))
			if tt.strict {
				h = v.Middleware(rec, canned(tt.status, tt.body))
			}
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, strings.NewReader(tt.reqBody))
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.auth {
				req.Header.Set("Authorization", "k")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("got %d %q through the middleware, want %d %q", w.Code, w.Body, tt.status, tt.body)
			}
			all := strings.Join(rec.errs, "\n")
			switch {
			case tt.wantErr == "" && all != "":
				t.Errorf("got errors, want none:\n%s", all)
			case tt.wantErr != "" && !strings.Contains(all, tt.wantErr):
				t.Errorf("got errors %q, want one containing %q", all, tt.wantErr)
			}
		})
	}
}

func TestSpecPath(t *testing.T) {
	t.Setenv(EnvSpecPath, "/somewhere/spec.yaml")
	if got, err := SpecPath(); err != nil || got != "/somewhere/spec.yaml" {
		t.Errorf("got %q, %v; want the override", got, err)
	}
	t.Setenv(EnvSpecPath, "")
	if got, err := SpecPath(); err != nil || got != "" {
		t.Errorf("got %q, %v; want \"\" (the embedded copy)", got, err)
	}
	if _, err := NewValidator("/does/not/exist.yaml"); err == nil {
		t.Errorf("got no error for a missing document, want one")
	}
}

// The document is part of the repository: a validator loads from any
// working directory, with nothing beside the module.
func TestValidatorReadsOnlyTheRepository(t *testing.T) {
	t.Setenv(EnvSpecPath, "")
	t.Chdir(t.TempDir())
	v, err := NewValidator("")
	if err != nil {
		t.Fatalf("NewValidator from an empty directory: %v", err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/endusers?pageLimit=2", nil)
	req.Header.Set("Authorization", "k")
	if err := v.ValidateRequest(req, nil); err != nil {
		t.Errorf("GET /v1/endusers: %v", err)
	}
	if got := Spec(); !bytes.Equal(got, spec) || len(got) < 100_000 {
		t.Errorf("Spec() returned %d bytes, want the embedded %d", len(got), len(spec))
	}
}

// EnvSpecOrigin names the copy the repository's document was taken from
// (CI sets it when that copy is at hand); the tests read nothing outside
// the repository unless it is set.
const EnvSpecOrigin = "DIXA_OPENAPI_ORIGIN"

// The copy in the repository is byte for byte the document it was taken
// from, when $DIXA_OPENAPI_ORIGIN names that document (it lives outside
// the repository, so a clone on its own has nothing to compare with).
func TestSpecIsTheSharedCopy(t *testing.T) {
	origin := os.Getenv(EnvSpecOrigin)
	if origin == "" {
		t.Skipf("set %s to the document the repository's copy was taken from to compare them", EnvSpecOrigin)
	}
	want, err := os.ReadFile(origin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(SpecFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s (%d bytes, sha256 %x) differs from %s (%d bytes, sha256 %x): copy it again and say so in NOTICE.md",
			SpecFile, len(got), sha256.Sum256(got), origin, len(want), sha256.Sum256(want))
	}
	if !bytes.Equal(spec, got) {
		t.Errorf("the embedded document differs from %s", SpecFile)
	}
}
