package apiclient

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2020-12-16T09:41:43Z", want: time.Date(2020, 12, 16, 9, 41, 43, 0, time.UTC)},
		{in: "2021-12-01T12:46:36.581Z[GMT]", want: time.Date(2021, 12, 1, 12, 46, 36, 581e6, time.UTC)},
		{in: "2023-02-01T09:01:52.2Z[GMT]", want: time.Date(2023, 2, 1, 9, 1, 52, 2e8, time.UTC)},
		{in: "2023-02-01T09:01:52.123456789Z", want: time.Date(2023, 2, 1, 9, 1, 52, 123456789, time.UTC)},
		{in: "2023-02-01T09:01:52.12Z[UTC]", want: time.Date(2023, 2, 1, 9, 1, 52, 12e7, time.UTC)},
		{in: "2023-02-01T10:01:52+01:00[Europe/Copenhagen]", want: time.Date(2023, 2, 1, 9, 1, 52, 0, time.UTC)},
		{in: "2023-02-01T10:01:52.5+01:00", want: time.Date(2023, 2, 1, 9, 1, 52, 5e8, time.UTC)},
		{in: "2023-02-01", wantErr: true},
		{in: "2023-02-01T09:01:52", wantErr: true}, // no zone: ambiguous
		{in: "2023-02-01T09:01:52.1234567891Z", want: time.Date(2023, 2, 1, 9, 1, 52, 123456789, time.UTC)}, // beyond ns: truncated
		{in: "yesterday", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTime(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimeJSON(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      time.Time
		wantTime  string // Time's encoding
		wantZoned string // ZonedTime's encoding
	}{
		{"rfc3339", `"2020-12-16T09:41:43Z"`, time.Date(2020, 12, 16, 9, 41, 43, 0, time.UTC),
			`"2020-12-16T09:41:43Z"`, `"2020-12-16T09:41:43Z[GMT]"`},
		{"zoned millis", `"2021-12-01T12:46:36.581Z[GMT]"`, time.Date(2021, 12, 1, 12, 46, 36, 581e6, time.UTC),
			`"2021-12-01T12:46:36.581Z"`, `"2021-12-01T12:46:36.581Z[GMT]"`},
		{"offset", `"2021-12-01T13:46:36+01:00"`, time.Date(2021, 12, 1, 12, 46, 36, 0, time.UTC),
			`"2021-12-01T12:46:36Z"`, `"2021-12-01T12:46:36Z[GMT]"`},
		{"null", `null`, time.Time{}, `"0001-01-01T00:00:00Z"`, `"0001-01-01T00:00:00Z[GMT]"`},
		{"empty", `""`, time.Time{}, `"0001-01-01T00:00:00Z"`, `"0001-01-01T00:00:00Z[GMT]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tm Time
			if err := json.Unmarshal([]byte(tt.in), &tm); err != nil {
				t.Fatalf("Time unmarshal: %v", err)
			}
			if !tm.Equal(tt.want) {
				t.Errorf("Time = %v, want %v", tm.Time, tt.want)
			}
			var zt ZonedTime
			if err := json.Unmarshal([]byte(tt.in), &zt); err != nil {
				t.Fatalf("ZonedTime unmarshal: %v", err)
			}
			if !zt.Equal(tt.want) {
				t.Errorf("ZonedTime = %v, want %v", zt.Time, tt.want)
			}
			if b, _ := json.Marshal(tm); string(b) != tt.wantTime {
				t.Errorf("Time marshal = %s, want %s", b, tt.wantTime)
			}
			if b, _ := json.Marshal(zt); string(b) != tt.wantZoned {
				t.Errorf("ZonedTime marshal = %s, want %s", b, tt.wantZoned)
			}
		})
	}
	for _, bad := range []string{`12`, `"nope"`, `{}`} {
		var tm Time
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("Time unmarshal %s: got nil error, want error", bad)
		}
	}
}

func TestAttributeValueJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    AttributeValue
		wantOut string
		wantStr string
	}{
		{"text", `"abcdef"`, TextValue("abcdef"), `"abcdef"`, "abcdef"},
		{"empty text", `""`, TextValue(""), `""`, ""},
		{"select", `["example1","example2"]`, SelectValue("example1", "example2"), `["example1","example2"]`, "example1 › example2"},
		{"empty select", `[]`, SelectValue(), `[]`, ""},
		{"null clears", `null`, ClearValue(), `null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v AttributeValue
			if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
				t.Fatalf("unmarshal %s: %v", tt.in, err)
			}
			if v.IsSet != tt.want.IsSet || v.IsSelect != tt.want.IsSelect || v.Text != tt.want.Text || !slices.Equal(v.Select, tt.want.Select) {
				t.Errorf("got %#v, want %#v", v, tt.want)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(out) != tt.wantOut {
				t.Errorf("marshal = %s, want %s", out, tt.wantOut)
			}
			if got := v.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
		})
	}
	for _, bad := range []string{`12`, `{"a":1}`, `[1,2]`, `true`} {
		var v AttributeValue
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("unmarshal %s: got nil error, want error", bad)
		}
	}
	// The PATCH body is a map of definition id to value, null clearing one.
	body, err := json.Marshal(map[string]AttributeValue{attrID: TextValue("abcdef"), attrID2: ClearValue()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), `{"`+attrID+`":"abcdef","`+attrID2+`":null}`; got != want {
		t.Errorf("map body = %s, want %s", got, want)
	}
}

func TestEndUserDecode(t *testing.T) {
	var env dataEnvelope[EndUser]
	if err := json.Unmarshal([]byte(endUserJSON), &env); err != nil {
		t.Fatal(err)
	}
	u := env.Data
	if u.ID != userID || u.DisplayName != "Alice Brown" || u.PhoneNumber != "+551155256325" || u.ExternalID != "#12345678" {
		t.Errorf("got %+v", u)
	}
	if want := time.Date(2020, 12, 16, 9, 41, 43, 0, time.UTC); !u.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, want)
	}
	if len(u.CustomAttributes) != 1 || u.CustomAttributes[0].Value.String() != "My Attribute Value" || u.CustomAttributes[0].Identifier != "my_attribute" {
		t.Errorf("CustomAttributes = %+v", u.CustomAttributes)
	}
	if got, want := u.AdditionalEmails, []string{"alice@secondary.email"}; !slices.Equal(got, want) {
		t.Errorf("AdditionalEmails = %v, want %v", got, want)
	}
}

func TestPatchEndUserInputJSON(t *testing.T) {
	name, empty := "Bob", ""
	none := []string{}
	tests := []struct {
		name      string
		in        PatchEndUserInput
		want      string
		wantEmpty bool
	}{
		{"empty", PatchEndUserInput{}, `{}`, true},
		{"one field", PatchEndUserInput{DisplayName: &name}, `{"displayName":"Bob"}`, false},
		{"clear with empty string", PatchEndUserInput{Email: &empty}, `{"email":""}`, false},
		{"clear a list", PatchEndUserInput{AdditionalEmails: &none}, `{"additionalEmails":[]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("marshal = %s, want %s", b, tt.want)
			}
			if got := tt.in.IsEmpty(); got != tt.wantEmpty {
				t.Errorf("IsEmpty() = %v, want %v", got, tt.wantEmpty)
			}
		})
	}
	// Bulk items flatten the embedded input next to the id.
	b, _ := json.Marshal(BulkPatchEndUserInput{ID: userID, PatchEndUserInput: PatchEndUserInput{DisplayName: &name}})
	if got, want := string(b), `{"id":"`+userID+`","displayName":"Bob"}`; got != want {
		t.Errorf("bulk patch item = %s, want %s", got, want)
	}
	b, _ = json.Marshal(BulkUpdateEndUserInput{ID: userID, UpdateEndUserInput: UpdateEndUserInput{DisplayName: "Bob"}})
	if got, want := string(b), `{"id":"`+userID+`","displayName":"Bob"}`; got != want {
		t.Errorf("bulk update item = %s, want %s", got, want)
	}
}

func TestConversationDecode(t *testing.T) {
	const chat = `{"id":1,"requesterId":"9deb936b-52e5-4c44-828d-4c8d48fe0c7e","channel":"WidgetChat",
"createdAt":"2020-12-16T09:41:43Z","direction":"Outbound","state":"Open","stateUpdatedAt":"2020-12-16T09:41:43Z",
"assignment":{"agentId":"0e4d0ead-dc69-470a-9b3a-e7eb16a56453","assignedAt":"2020-12-16T11:00:34Z"},
"queue":{"id":"cd87b232-64c8-4ad5-b81a-6f9233352d97","queuedAt":"2020-12-16T10:40:40Z"},
"browserInfo":{"name":"Chrome 9","version":"91.0.4472.114","ipAddress":"127.0.0.1","originatingUrl":"http://localhost:3000/"},
"language":"en","link":{"parentId":1234,"_type":"SideConversation"},"_type":"ChatConversation"}`
	const future = `{"id":9007199254740993,"requesterId":"9deb936b-52e5-4c44-828d-4c8d48fe0c7e","channel":"Hologram",
"createdAt":"2030-01-01T00:00:00.000Z[GMT]","state":"Closed","_type":"HologramConversation","beamStrength":11}`
	const anonymized = `{"id":7,"requesterId":"9deb936b-52e5-4c44-828d-4c8d48fe0c7e","channel":"Email",
"createdAt":"2020-12-16T09:41:43Z","anonymizedAt":"2021-12-01T12:46:36.581Z[GMT]","_type":"AnonymizedConversation"}`

	var convs []Conversation
	if err := json.Unmarshal([]byte("["+chat+","+future+","+anonymized+"]"), &convs); err != nil {
		t.Fatal(err)
	}
	c := convs[0]
	if c.Type != ConvChat || c.ID != 1 || c.State != StateOpen || c.BrowserInfo == nil || c.BrowserInfo.Name != "Chrome 9" ||
		c.Link == nil || c.Link.ParentID != 1234 || c.Link.Type != "SideConversation" || c.Assignment == nil || c.Queue == nil {
		t.Errorf("chat = %+v", c)
	}
	if !c.IsOpen() {
		t.Errorf("chat IsOpen() = false, want true")
	}
	u := convs[1]
	if u.Type != "HologramConversation" || u.ID != 9007199254740993 {
		t.Errorf("unknown kind: Type = %q, ID = %d", u.Type, u.ID)
	}
	if !strings.Contains(string(u.Raw), `"beamStrength":11`) {
		t.Errorf("unknown kind Raw = %s, want it to keep beamStrength", u.Raw)
	}
	if u.IsOpen() {
		t.Errorf("closed unknown kind IsOpen() = true, want false")
	}
	a := convs[2]
	if a.AnonymizedAt == nil || a.AnonymizedAt.Year() != 2021 || a.IsOpen() {
		t.Errorf("anonymized = %+v (IsOpen %v)", a, a.IsOpen())
	}
	if string(convs[0].Raw) == string(convs[1].Raw) {
		t.Error("Raw shared between elements")
	}
}

// The bulk outcomes: a success carries one EndUser, failures
// one of seven error kinds.
func TestBulkOutcomeDecode(t *testing.T) {
	const body = `{"data":[
{"_type":"BulkActionSuccess","data":{"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","createdAt":"2020-12-16T09:41:43Z","displayName":"Alice"}},
{"_type":"BulkActionFailure","error":{"_type":"Validation","id":"55a54008-ad1b-3589-aa21-0d2629c1df41","message":"Updating EndUser [id:55a54008-ad1b-3589-aa21-0d2629c1df41] failed with [errors:PhoneNumberExists]"}},
{"_type":"BulkActionFailure","error":{"_type":"Validation","message":"Create EndUser [userId=...] in [orgId=...] failed with [errors=...]"}},
{"_type":"BulkActionFailure","error":{"_type":"EmptyPatchSet","id":"55a54008-ad1b-3589-aa21-0d2629c1df41","message":"empty"}},
{"_type":"BulkActionFailure","error":{"_type":"ErrorResponse","message":"boom"}},
{"_type":"BulkActionFailure","error":{"_type":"Infrastructure","id":"55a54008-ad1b-3589-aa21-0d2629c1df41","message":"db"}},
{"_type":"BulkActionFailure","error":{"_type":"Integrity","id":"55a54008-ad1b-3589-aa21-0d2629c1df41","message":"integrity"}},
{"_type":"BulkActionFailure","error":{"_type":"InvalidArgument","message":"bad arg"}},
{"_type":"BulkActionFailure","error":{"_type":"NotFound","id":"55a54008-ad1b-3589-aa21-0d2629c1df41","message":"not found"}}
]}`
	var env dataEnvelope[[]BulkOutcome]
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	out := env.Data
	if len(out) != 9 {
		t.Fatalf("got %d outcomes, want 9", len(out))
	}
	if !out[0].OK() || out[0].Data.ID != userID || out[0].Data.DisplayName != "Alice" || out[0].Error != nil {
		t.Errorf("success = %+v", out[0])
	}
	wantKinds := []string{BulkErrValidation, BulkErrValidation, BulkErrEmptyPatchSet, BulkErrErrorResponse,
		BulkErrInfrastructure, BulkErrIntegrity, BulkErrInvalidArgument, BulkErrNotFound}
	for i, kind := range wantKinds {
		o := out[i+1]
		if o.OK() || o.Type != BulkFailure || o.Error == nil {
			t.Errorf("outcome %d = %+v, want a failure", i+1, o)
			continue
		}
		if o.Error.Type != kind {
			t.Errorf("outcome %d kind = %q, want %q", i+1, o.Error.Type, kind)
		}
	}
	if got, want := out[1].Error.Error(), "Validation (55a54008-ad1b-3589-aa21-0d2629c1df41): Updating EndUser"; !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want prefix %q", got, want)
	}
	if got, want := out[2].Error.Error(), "Validation: Create EndUser"; !strings.HasPrefix(got, want) {
		t.Errorf("Error() without id = %q, want prefix %q", got, want)
	}
}

func TestCustomAttributeDefinitionDecode(t *testing.T) {
	const body = `{"data":[
{"id":"c43fc767-0000-4000-8000-000000000001","entityType":"Conversation","identifier":"parcel_id","label":"Parcel ID",
 "inputDefinition":{"_type":"Text","placeholder":"1234"},"description":"Id of the parcel",
 "createdAt":"2023-01-01T08:23:54.246Z[GMT]","updatedAt":"2023-01-11T12:25:23.837Z[GMT]",
 "isRequired":false,"isArchived":false,"isDeactivated":false},
{"id":"66121f54-0000-4000-8000-000000000002","entityType":"Contact","identifier":"location","label":"Location",
 "inputDefinition":{"_type":"Select","options":[
  {"id":"6c5efa22-0000-4000-8000-000000000003","label":"Denmark","value":"denmark","isDeactivated":false,"orderIndex":5,
   "nestedOptions":[{"id":"ac4e65ea-0000-4000-8000-000000000004","label":"Copenhagen","value":"copenhagen","nestedOptions":[],"isDeactivated":false,"orderIndex":6}]}]},
 "description":"End user's known city","createdAt":"2023-01-01T08:25:50.246Z[GMT]",
 "isRequired":false,"isArchived":false,"isDeactivated":false},
{"id":"77777777-0000-4000-8000-000000000005","entityType":"Contact","identifier":"when","label":"When",
 "inputDefinition":{"_type":"DateTime","format":"iso"},
 "createdAt":"2023-01-01T08:25:50Z[GMT]","isRequired":true,"isArchived":false,"isDeactivated":false}
]}`
	var env dataEnvelope[[]CustomAttributeDefinition]
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	defs := env.Data
	if len(defs) != 3 {
		t.Fatalf("got %d definitions, want 3", len(defs))
	}
	text := defs[0]
	if text.InputDefinition.Type != InputText || text.InputDefinition.Placeholder != "1234" || text.UpdatedAt == nil ||
		text.EntityType != EntityConversation {
		t.Errorf("text definition = %+v", text)
	}
	if want := time.Date(2023, 1, 1, 8, 23, 54, 246e6, time.UTC); !text.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", text.CreatedAt, want)
	}
	sel := defs[1]
	if sel.UpdatedAt != nil {
		t.Errorf("UpdatedAt = %v, want nil", sel.UpdatedAt)
	}
	opts := sel.InputDefinition.Options
	if len(opts) != 1 || opts[0].Value != "denmark" || opts[0].OrderIndex != 5 || len(opts[0].NestedOptions) != 1 {
		t.Fatalf("options = %+v", opts)
	}
	if n := opts[0].NestedOptions[0]; n.Value != "copenhagen" || n.OrderIndex != 6 || n.NestedOptions == nil || len(n.NestedOptions) != 0 {
		t.Errorf("nested option = %+v", n)
	}
	// An unknown input kind survives a round trip.
	unknown := defs[2].InputDefinition
	if unknown.Type != "DateTime" {
		t.Errorf("unknown Type = %q", unknown.Type)
	}
	b, err := json.Marshal(unknown)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, b, `{"_type":"DateTime","format":"iso"}`)
	// A known kind is written from its fields.
	b, _ = json.Marshal(text.InputDefinition)
	jsonEqual(t, b, `{"_type":"Text","placeholder":"1234"}`)
}

func TestAnonymizationRequestDecode(t *testing.T) {
	const body = `{"data":{"id":"6bf55369-a670-4e6b-9f70-ecdb9913549f","entityType":"UserAnonymizationType","_type":"User",
"initiatedAt":"2021-12-01T12:46:36.581Z[GMT]","targetEntityId":"f28fafd6-2e42-4441-943c-388a8e0ef433",
"requestedBy":"2b01e4c9-0c3a-47d4-9462-cd5a1a4687f5"}}`
	var env dataEnvelope[AnonymizationRequest]
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	a := env.Data
	if a.ID != reqID || a.Type != "User" || a.TargetEntityID != "f28fafd6-2e42-4441-943c-388a8e0ef433" || a.Processed() {
		t.Errorf("got %+v", a)
	}
	if got, want := string(a.EntityType), `"UserAnonymizationType"`; got != want {
		t.Errorf("EntityType = %s, want %s", got, want)
	}
	var done AnonymizationRequest
	if err := json.Unmarshal([]byte(`{"id":"x","processedAt":"2021-12-01T12:47:00.2Z[GMT]","entityType":{}}`), &done); err != nil {
		t.Fatal(err)
	}
	if !done.Processed() || done.ProcessedAt.Nanosecond() != 2e8 {
		t.Errorf("processed = %+v", done)
	}
}
