package dixasim_test

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

func TestListEndUsersFilters(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	e.createUser(map[string]any{"displayName": "Filter Target", "email": "Filter.Target@Example.com",
		"phoneNumber": "+4511111111", "additionalEmails": []string{"alias@example.com"},
		"additionalPhoneNumbers": []string{"+4522222222"}, "externalId": "#CRM-999999"})
	tests := []struct {
		name   string
		query  string
		status int
		count  int    // users in the answer (for 200)
		msg    string // error message (for 400)
	}{
		{"email exact", "email=Filter.Target@Example.com", 200, 1, ""},
		{"email other case", "email=filter.target@example.com", 200, 1, ""},
		{"additional email", "email=ALIAS@example.com", 200, 1, ""},
		{"phone", "phone=%2B4511111111", 200, 1, ""},
		{"additional phone", "phone=%2B4522222222", 200, 1, ""},
		{"phone with unescaped plus", "phone=+4511111111", 200, 0, ""},
		{"external id", "externalId=%23CRM-999999", 200, 1, ""},
		{"no match", "email=nobody@example.com", 200, 0, ""},
		{"email and phone", "email=a@b.example&phone=%2B4511111111", 400, 0, "Invalid filters: Cannot provide more than one filter"},
		{"phone and external id", "phone=%2B4511111111&externalId=x", 400, 0, "Invalid filters: Cannot provide more than one filter"},
		{"all three", "email=a@b.example&phone=1&externalId=x", 400, 0, "Invalid filters: Cannot provide more than one filter"},
		{"bad page limit", "pageLimit=ten", 400, 0, "Invalid value for: query parameter pageLimit"},
		{"zero page limit", "pageLimit=0", 400, 0, "Invalid value for: query parameter pageLimit"},
		{"garbage page key", "pageKey=not-base64!", 400, 0, "Invalid value for: query parameter pageKey"},
		{"made-up page key", "pageKey=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`{"s":"endusers","l":5}`))), 400, 0, "Invalid value for: query parameter pageKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/v1/endusers?"+tt.query, nil).want(t, tt.status)
			if tt.status != 200 {
				if got := r.message(t); got != tt.msg {
					t.Errorf("got message %q, want %q", got, tt.msg)
				}
				return
			}
			var page userList
			r.decode(t, &page)
			if len(page.Data) != tt.count {
				t.Errorf("got %d users, want %d", len(page.Data), tt.count)
			}
			if page.Data == nil {
				t.Errorf("got data null or absent, want a list")
			}
		})
	}
}

func TestListEndUsersOmitsCustomAttributes(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	r := e.do("GET", "/v1/endusers?pageLimit=100", nil).want(t, 200)
	if strings.Contains(string(r.Body), "customAttributes") {
		t.Errorf("got customAttributes in a list, want none (Dixa leaves them out)")
	}
	if !strings.Contains(string(r.Body), `"additionalEmails":[]`) {
		t.Errorf("got no empty additionalEmails list, want [] as in the spec's examples")
	}
}

func TestListEndUsersPagination(t *testing.T) {
	e := newEnv(t, dixasim.Options{Users: 230, DefaultPageSize: 25, MaxPageSize: 60})

	// Default and maximum page sizes.
	var page userList
	e.do("GET", "/v1/endusers", nil).want(t, 200).decode(t, &page)
	if got := len(page.Data); got != 25 {
		t.Errorf("got default page of %d, want 25", got)
	}
	if page.Meta == nil || page.Meta.Previous != "" {
		t.Errorf("got meta %+v on the first page, want meta without previous", page.Meta)
	}
	e.do("GET", "/v1/endusers?pageLimit=1000", nil).want(t, 200).decode(t, &page)
	if got := len(page.Data); got != 60 {
		t.Errorf("got page of %d for pageLimit=1000, want the maximum 60", got)
	}

	// Walk forward: every user once, in (createdAt, id) order.
	var pages [][]user
	var seen []user
	path := "/v1/endusers?pageLimit=50"
	for path != "" {
		var p userList
		e.do("GET", path, nil).want(t, 200).decode(t, &p)
		if len(pages) > 0 && p.Meta.Previous == "" {
			t.Errorf("got no meta.previous on page %d, want one", len(pages)+1)
		}
		if p.Meta.Next != "" {
			u, err := url.Parse(p.Meta.Next)
			if err != nil || u.IsAbs() || u.Path != "/v1/endusers" || len(u.Query()) != 1 {
				t.Fatalf("got meta.next %q, want a relative /v1/endusers?pageKey=… link", p.Meta.Next)
			}
		}
		pages = append(pages, p.Data)
		seen = append(seen, p.Data...)
		path = p.Meta.Next
	}
	if got, want := len(seen), e.sim.UserCount(); got != want {
		t.Fatalf("got %d users over all pages, want %d", got, want)
	}
	if got := len(pages); got != 5 {
		t.Errorf("got %d pages, want 5", got)
	}
	less := func(a, b user) bool { return a.CreatedAt < b.CreatedAt || a.CreatedAt == b.CreatedAt && a.ID < b.ID }
	for i := 1; i < len(seen); i++ {
		if !less(seen[i-1], seen[i]) {
			t.Fatalf("got %v before %v, want createdAt then id order", seen[i-1], seen[i])
		}
	}

	// Walk back from the second page: meta.previous gives the first.
	var first, second, back userList
	e.do("GET", "/v1/endusers?pageLimit=50", nil).decode(t, &first)
	e.do("GET", first.Meta.Next, nil).want(t, 200).decode(t, &second)
	e.do("GET", second.Meta.Previous, nil).want(t, 200).decode(t, &back)
	if !slices.EqualFunc(back.Data, first.Data, func(a, b user) bool { return a.ID == b.ID }) {
		t.Errorf("got a previous page different from the first page")
	}
	if back.Meta.Previous != "" || back.Meta.Next == "" {
		t.Errorf("got meta %+v for the first page reached backwards, want next only", back.Meta)
	}

	// pageLimit may change between pages.
	var smaller userList
	e.do("GET", first.Meta.Next+"&pageLimit=7", nil).want(t, 200).decode(t, &smaller)
	if got := len(smaller.Data); got != 7 || smaller.Data[0].ID != second.Data[0].ID {
		t.Errorf("got %d users starting %s, want 7 starting %s", got, smaller.Data[0].ID, second.Data[0].ID)
	}

	// A tampered key is refused.
	key := first.Meta.Next[strings.Index(first.Meta.Next, "=")+1:]
	raw, _ := url.QueryUnescape(key)
	b := []byte(raw)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '=' {
		b[len(b)/2] = 'A'
	}
	r := e.do("GET", "/v1/endusers?pageKey="+url.QueryEscape(string(b)), nil).want(t, 400)
	if got, want := r.message(t), "Invalid value for: query parameter pageKey"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// A conversations key does not page end users.
	var convs conversationList
	e.do("GET", "/v1/endusers/"+dixasim.DemoBusyUserID+"/conversations?pageLimit=2", nil).want(t, 200).decode(t, &convs)
	ckey := convs.Meta.Next[strings.Index(convs.Meta.Next, "?"):]
	e.do("GET", "/v1/endusers"+ckey, nil).want(t, 400)
}

func TestListEndUsersFilterKeptInPageKey(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	for i := range 5 {
		// Additional emails are not unique, so one filter can match many.
		e.createUser(map[string]any{"displayName": "Family member " + string(rune('A'+i)),
			"additionalEmails": []string{"family@shared.example"}})
	}
	var ids []string
	path := "/v1/endusers?email=family@shared.example&pageLimit=2"
	for path != "" {
		var p userList
		e.do("GET", path, nil).want(t, 200).decode(t, &p)
		if strings.Contains(p.Meta.Next, "email") {
			t.Errorf("got meta.next %q, want the filter inside the opaque key only", p.Meta.Next)
		}
		for _, u := range p.Data {
			ids = append(ids, u.ID)
		}
		path = p.Meta.Next
	}
	if len(ids) != 5 {
		t.Errorf("got %d users over the filtered pages, want 5", len(ids))
	}
	// Repeating the same filter with the key is fine; changing it is not.
	var p userList
	e.do("GET", "/v1/endusers?email=family@shared.example&pageLimit=2", nil).decode(t, &p)
	e.do("GET", p.Meta.Next+"&email=family@shared.example", nil).want(t, 200)
	e.do("GET", p.Meta.Next+"&email=other@shared.example", nil).want(t, 400)
}

func TestCreateEndUser(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	busy := e.getUser(dixasim.DemoBusyUserID)
	in := map[string]any{
		"displayName": "Alice Brown", "email": "alice@brown.example", "phoneNumber": "+551155256325",
		"additionalEmails": []string{"alice@secondary.example"}, "additionalPhoneNumbers": []string{"+5566778899"},
		"firstName": "Alice", "lastName": "Brown", "middleNames": []string{"J."},
		"avatarUrl": "https://avatar.example/a.png", "externalId": "#12345678",
	}
	got := e.createUser(in)
	if got.ID == "" || got.CreatedAt == "" || got.DisplayName != "Alice Brown" || got.PhoneNumber != "+551155256325" ||
		!slices.Equal(got.MiddleNames, []string{"J."}) || got.ExternalID != "#12345678" {
		t.Errorf("got %+v, want the fields sent", got)
	}
	if got.CustomAttributes == nil {
		t.Errorf("got no customAttributes on create, want []")
	}
	if again := e.getUser(got.ID); again.Email != "alice@brown.example" {
		t.Errorf("got %+v from GET, want the created user", again)
	}
	e.createUser(map[string]any{}) // nothing is required

	tests := []struct {
		name string
		body any
		msg  string // substring of the 400 message
	}{
		{"phone taken", map[string]any{"phoneNumber": busy.PhoneNumber}, "PhoneNumberExists"},
		{"phone taken as additional", map[string]any{"phoneNumber": busy.AdditionalPhoneNumbers[0]}, "PhoneNumberExists"},
		{"additional phone taken", map[string]any{"additionalPhoneNumbers": []string{"+551155256325"}}, "PhoneNumberExists"},
		{"email taken, other case", map[string]any{"email": "ALICE@Brown.example"}, "EmailExists"},
		{"bad phone", map[string]any{"phoneNumber": "12345"}, "InvalidPhoneNumber"},
		{"bad email", map[string]any{"email": "not an email"}, "InvalidEmail"},
		{"duplicate additional email", map[string]any{"additionalEmails": []string{"x@y.example", "X@y.example"}}, "DuplicateEmail"},
		{"bad JSON", `{"displayName": `, "Decoding failure in request"},
		{"empty body", "", "Decoding failure in request"},
		{"wrong type", `{"displayName": 42}`, "Decoding failure in request"},
		{"array body", `[]`, "Decoding failure in request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/endusers", tt.body).want(t, 400)
			if got := r.message(t); !strings.Contains(got, tt.msg) {
				t.Errorf("got message %q, want it to contain %q", got, tt.msg)
			}
		})
	}
}

func TestBulkCreateEndUsers(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	busy := e.getUser(dixasim.DemoBusyUserID)
	body := map[string]any{"data": []map[string]any{
		{"displayName": "One", "phoneNumber": "+4599990001"},
		{"displayName": "Two", "phoneNumber": "+4599990001"}, // same as the first
		{"displayName": "Three", "phoneNumber": busy.PhoneNumber},
		{"displayName": "Four", "email": busy.Email},
		{"displayName": "Five"},
	}}
	var out struct{ Data []outcome }
	e.do("POST", "/v1/endusers/bulk", body).want(t, 201).decode(t, &out)
	wantTypes := []string{"BulkActionSuccess", "BulkActionFailure", "BulkActionFailure", "BulkActionFailure", "BulkActionSuccess"}
	if len(out.Data) != len(wantTypes) {
		t.Fatalf("got %d outcomes, want %d", len(out.Data), len(wantTypes))
	}
	for i, o := range out.Data {
		if o.Type != wantTypes[i] {
			t.Errorf("outcome %d: got %s, want %s", i, o.Type, wantTypes[i])
		}
	}
	if got := out.Data[0].Data; got == nil || got.DisplayName != "One" {
		t.Errorf("got success data %+v, want the user", got)
	}
	f := out.Data[1].Error
	if f.Type != "Validation" || f.ID == "" ||
		!strings.HasPrefix(f.Message, "Create EndUser [userId="+f.ID+"] in [orgId="+dixasim.OrgID+"] failed with [errors=PhoneNumberExists]") {
		t.Errorf("got error %+v, want a Validation failure with PhoneNumberExists", f)
	}
	if got := out.Data[3].Error.Message; !strings.Contains(got, "EmailExists") {
		t.Errorf("got %q, want EmailExists", got)
	}

	tests := []struct {
		name, body, msg string
	}{
		{"no data", `{}`, "Invalid value for: body"},
		{"data not a list", `{"data": {}}`, "Decoding failure in request"},
		{"bad JSON", `{"data": [`, "Decoding failure in request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.do("POST", "/v1/endusers/bulk", tt.body).want(t, 400).message(t); got != tt.msg {
				t.Errorf("got %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestBulkUpdateEndUsers(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	a := e.createUser(map[string]any{"displayName": "A", "phoneNumber": "+4588880001", "email": "a@bulk.example"})
	b := e.createUser(map[string]any{"displayName": "B", "phoneNumber": "+4588880002"})
	unknown := "0f0f0f0f-0000-4000-8000-000000000000"
	body := map[string]any{"data": []map[string]any{
		{"id": a.ID, "displayName": "A2"},                               // clears email and phone (full update)
		{"id": unknown, "displayName": "Nobody"},                        // not found
		{"id": b.ID, "displayName": "B2", "phoneNumber": "+4520304050"}, // the open-conversation demo user's phone
		{"id": b.ID, "displayName": " "},                                // blank display name
	}}
	var out struct{ Data []outcome }
	e.do("PUT", "/v1/endusers", body).want(t, 200).decode(t, &out)
	if got := out.Data[0]; got.Type != "BulkActionSuccess" || got.Data.DisplayName != "A2" || got.Data.Email != "" {
		t.Errorf("got %+v, want A replaced", got.Data)
	}
	if got := out.Data[1].Error; got == nil || got.Type != "NotFound" || got.ID != unknown {
		t.Errorf("got %+v, want NotFound for the unknown id", got)
	}
	if got := out.Data[2].Error; got == nil || got.Type != "Validation" ||
		got.Message != "Updating EndUser [id:"+b.ID+"] failed with [errors:PhoneNumberExists]" {
		t.Errorf("got %+v, want a PhoneNumberExists validation failure", got)
	}
	if got := out.Data[3].Error; got == nil || got.Type != "Validation" {
		t.Errorf("got %+v, want a validation failure for a blank displayName", got)
	}
	// The cleared phone is free again.
	e.createUser(map[string]any{"phoneNumber": "+4588880001"})

	for name, body := range map[string]string{
		"missing displayName": `{"data": [{"id": "` + a.ID + `"}]}`,
		"missing id":          `{"data": [{"displayName": "x"}]}`,
		"id not a uuid":       `{"data": [{"id": "42", "displayName": "x"}]}`,
		"no data":             `{}`,
	} {
		t.Run(name, func(t *testing.T) {
			if got := e.do("PUT", "/v1/endusers", body).want(t, 400).message(t); got != "Invalid value for: body" {
				t.Errorf("got %q, want %q", got, "Invalid value for: body")
			}
		})
	}
}

func TestBulkPatchEndUsers(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	a := e.createUser(map[string]any{"displayName": "A", "email": "a@patch.example"})
	unknown := "0f0f0f0f-0000-4000-8000-000000000000"
	body := map[string]any{"data": []map[string]any{
		{"id": a.ID, "lastName": "Andersen"},
		{"id": a.ID},
		{"id": unknown, "displayName": "x"},
		{"id": a.ID, "phoneNumber": "+4520304050"},
	}}
	var out struct{ Data []outcome }
	e.do("PATCH", "/v1/endusers", body).want(t, 200).decode(t, &out)
	if got := out.Data[0]; got.Type != "BulkActionSuccess" || got.Data.LastName != "Andersen" || got.Data.Email != "a@patch.example" {
		t.Errorf("got %+v, want A merged", got.Data)
	}
	wantErr := []struct{ typ, msg string }{
		{},
		{"EmptyPatchSet", "Empty patch set"},
		{"NotFound", "not found"},
		{"Validation", "Updating EndUser [id=" + a.ID + "] in [org=" + dixasim.OrgID + "] failed with [errors=PhoneNumberExists]"},
	}
	for i, w := range wantErr[1:] {
		got := out.Data[i+1]
		if got.Type != "BulkActionFailure" || got.Error.Type != w.typ || !strings.Contains(got.Error.Message, w.msg) {
			t.Errorf("outcome %d: got %s %+v, want %s %q", i+1, got.Type, got.Error, w.typ, w.msg)
		}
	}
	e.do("PATCH", "/v1/endusers", `{"data": [{"displayName": "no id"}]}`).want(t, 400)
}

func TestGetEndUser(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	busy := e.getUser(dixasim.DemoBusyUserID)
	if len(busy.CustomAttributes) == 0 || len(busy.AdditionalEmails) != 2 || len(busy.AdditionalPhoneNumbers) != 2 {
		t.Errorf("got %+v, want the busy demo user with attributes and contact points", busy)
	}
	minimal := e.do("GET", "/v1/endusers/"+dixasim.DemoMinimalUserID, nil).want(t, 200)
	if !strings.Contains(string(minimal.Body), `"customAttributes":[]`) {
		t.Errorf("got %s, want customAttributes: [] on a single user", minimal.Body)
	}
	tests := []struct {
		name, id string
		status   int
		msg      string
	}{
		{"unknown", "0f0f0f0f-0000-4000-8000-000000000000", 404, "The requested resource could not be found"},
		{"not a uuid", "42", 400, "Invalid value for: path parameter userId"},
		{"uuid without dashes", "de000000000040008000000000000005", 400, "Invalid value for: path parameter userId"},
		{"upper case uuid", strings.ToUpper(dixasim.DemoBusyUserID), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/v1/endusers/"+tt.id, nil).want(t, tt.status)
			if tt.msg != "" {
				if got := r.message(t); got != tt.msg {
					t.Errorf("got %q, want %q", got, tt.msg)
				}
			}
		})
	}
}

func TestUpdateEndUser(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	u := e.createUser(map[string]any{"displayName": "Before", "email": "before@put.example", "phoneNumber": "+4577770001", "lastName": "Old"})
	var out struct{ Data user }
	e.do("PUT", "/v1/endusers/"+u.ID, map[string]any{"displayName": "After", "phoneNumber": "+4577770001"}).want(t, 200).decode(t, &out)
	if got := out.Data; got.DisplayName != "After" || got.Email != "" || got.LastName != "" || got.PhoneNumber != "+4577770001" || got.CreatedAt != u.CreatedAt {
		t.Errorf("got %+v, want a full replace keeping id, createdAt and own phone", got)
	}
	tests := []struct {
		name, id string
		body     any
		status   int
		msg      string
	}{
		{"missing displayName", u.ID, map[string]any{"email": "x@y.example"}, 400, "Invalid value for: body"},
		{"blank displayName", u.ID, map[string]any{"displayName": ""}, 400, "Validation failure during update [errors=DisplayNameRequired]"},
		{"phone taken", u.ID, map[string]any{"displayName": "x", "phoneNumber": "+4520304050"}, 400, "Validation failure during update [errors=PhoneNumberExists]"},
		{"unknown", "0f0f0f0f-0000-4000-8000-000000000000", map[string]any{"displayName": "x"}, 404, "The requested resource could not be found"},
		{"not a uuid", "x", map[string]any{"displayName": "x"}, 400, "Invalid value for: path parameter userId"},
		{"bad JSON", u.ID, "{", 400, "Decoding failure in request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.do("PUT", "/v1/endusers/"+tt.id, tt.body).want(t, tt.status).message(t); got != tt.msg {
				t.Errorf("got %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestPatchEndUser(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	u := e.createUser(map[string]any{"displayName": "Patch Me", "email": "patch@me.example", "externalId": "#1"})
	var out struct{ Data user }
	e.do("PATCH", "/v1/endusers/"+u.ID, map[string]any{"firstName": "Pat", "externalId": ""}).want(t, 200).decode(t, &out)
	if got := out.Data; got.FirstName != "Pat" || got.Email != "patch@me.example" || got.ExternalID != "" {
		t.Errorf("got %+v, want firstName set, email kept, externalId cleared", got)
	}
	// null is not allowed by the document (no field is nullable), but a
	// Scala server reads it as an absent Option: unchanged.
	e.outsideDocument().do("PATCH", "/v1/endusers/"+u.ID, `{"email": null, "lastName": "Kept"}`).want(t, 200).decode(t, &out)
	if out.Data.Email != "patch@me.example" {
		t.Errorf("got email %q after a null, want it unchanged (null reads as absent)", out.Data.Email)
	}
	tests := []struct {
		name, id string
		body     any
		status   int
		msg      string
	}{
		{"empty body", u.ID, "", 400, "Decoding failure in request"},
		{"empty object", u.ID, "{}", 400, "Validation failure during update [errors=EmptyPatchSet]"},
		{"bad phone", u.ID, map[string]any{"phoneNumber": "+0123"}, 400, "Validation failure during update [errors=InvalidPhoneNumber]"},
		{"unknown", "0f0f0f0f-0000-4000-8000-000000000000", map[string]any{"displayName": "x"}, 404, "The requested resource could not be found"},
		{"not a uuid", "x", map[string]any{"displayName": "x"}, 400, "Invalid value for: path parameter userId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.do("PATCH", "/v1/endusers/"+tt.id, tt.body).want(t, tt.status).message(t); got != tt.msg {
				t.Errorf("got %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestAnyUserIDAndUserCount(t *testing.T) {
	e := newEnv(t, dixasim.Options{Users: 50})
	if got := e.sim.UserCount(); got != 50 {
		t.Errorf("got %d users, want 50", got)
	}
	id, ok := e.sim.AnyUserID(func(u apiclient.EndUser) bool { return u.DisplayName == "<script>alert(1)</script>" })
	if !ok || id != dixasim.DemoScriptUserID {
		t.Errorf("got %q, %v, want the script demo user", id, ok)
	}
	id, ok = e.sim.AnyUserID(func(u apiclient.EndUser) bool { return len(u.CustomAttributes) >= 5 })
	if !ok || id != dixasim.DemoBusyUserID {
		t.Errorf("got %q, %v, want the busy demo user (attributes visible to the predicate)", id, ok)
	}
	if _, ok := e.sim.AnyUserID(func(apiclient.EndUser) bool { return false }); ok {
		t.Errorf("got a user for a predicate that matches none")
	}
}
