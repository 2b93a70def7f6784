package dixasim_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

// TestClientAgainstDocument drives every client method against the
// simulator through the strict validating middleware: the client's requests
// and the simulator's responses are both checked against the vendor's
// document, and the client must decode what the simulator sends.
func TestClientAgainstDocument(t *testing.T) {
	for _, version := range []string{"v1", "beta"} {
		t.Run(version, func(t *testing.T) {
			sim := dixasim.New(dixasim.Options{APIKey: testKey, Users: 120, AnonymizeDelay: -1})
			srv := httptest.NewServer(validator(t).Middleware(t, sim))
			defer srv.Close()
			c, err := apiclient.New(srv.URL,
				apiclient.WithAPIKey(testKey),
				apiclient.WithVersion(version),
				apiclient.WithHTTPClient(srv.Client()),
				apiclient.WithLimiter(apiclient.NewLimiter(1000, 100)),
			)
			if err != nil {
				t.Fatal(err)
			}
			clientRoundTrip(t, c, sim)
			clientConversations(t, c, sim)
		})
	}
}

func clientRoundTrip(t *testing.T, c *apiclient.Client, sim *dixasim.Sim) {
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Ping(ctx))

	// Lists: one page, then every user through the iterator.
	page, err := c.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 25})
	must(err)
	if len(page.Items) != 25 || page.NextKey == "" {
		t.Errorf("got %d items, next %q; want 25 and a next key", len(page.Items), page.NextKey)
	}
	next, err := c.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 25, PageKey: page.NextKey})
	must(err)
	if next.PrevKey == "" || next.Items[0].ID == page.Items[0].ID {
		t.Errorf("got a second page that does not follow the first")
	}
	n := 0
	for u, err := range c.EndUsers(ctx, apiclient.ListOptions{PageLimit: 50}) {
		must(err)
		if u.ID == "" {
			t.Errorf("got a user without id")
		}
		n++
	}
	if n != sim.UserCount() {
		t.Errorf("got %d users from the iterator, want %d", n, sim.UserCount())
	}
	busy, err := c.GetEndUser(ctx, dixasim.DemoBusyUserID)
	must(err)
	if len(busy.CustomAttributes) == 0 || len(busy.AdditionalPhoneNumbers) != 2 {
		t.Errorf("got %+v, want the busy user with attributes", busy)
	}
	for _, o := range []apiclient.ListOptions{{Email: busy.Email}, {Phone: busy.PhoneNumber}, {ExternalID: busy.ExternalID}} {
		p, err := c.ListEndUsers(ctx, o)
		must(err)
		if len(p.Items) != 1 || p.Items[0].ID != busy.ID {
			t.Errorf("filter %+v: got %d users, want the busy user", o, len(p.Items))
		}
	}
	if _, err := c.GetEndUser(ctx, "0f0f0f0f-0000-4000-8000-000000000000"); !errors.Is(err, apiclient.ErrNotFound) {
		t.Errorf("got %v for an unknown user, want ErrNotFound", err)
	}

	// Writes, one and bulk.
	created, err := c.CreateEndUser(ctx, apiclient.CreateEndUserInput{
		DisplayName: "Client Contract", Email: "client.contract@test.example", PhoneNumber: "+4512340000",
		AdditionalEmails: []string{"cc@test.example"}, MiddleNames: []string{"Q."}, ExternalID: "#CC-1",
	})
	must(err)
	if _, err := c.CreateEndUser(ctx, apiclient.CreateEndUserInput{PhoneNumber: "+4512340000"}); !errors.Is(err, apiclient.ErrBadRequest) {
		t.Errorf("got %v for a taken phone, want ErrBadRequest", err)
	}
	outs, err := c.CreateEndUsers(ctx, []apiclient.CreateEndUserInput{
		{DisplayName: "Bulk One", PhoneNumber: "+4512340001"},
		{DisplayName: "Bulk Clash", PhoneNumber: "+4512340000"},
	})
	must(err)
	if len(outs) != 2 || !outs[0].OK() || outs[1].OK() || outs[1].Error.Type != apiclient.BulkErrValidation {
		t.Errorf("got %+v, want a success and a Validation failure", outs)
	}
	updated, err := c.UpdateEndUser(ctx, created.ID, apiclient.UpdateEndUserInput{DisplayName: "Client Contract 2", Email: created.Email})
	must(err)
	if updated.DisplayName != "Client Contract 2" {
		t.Errorf("got %q after update", updated.DisplayName)
	}
	name := "Patched"
	patched, err := c.PatchEndUser(ctx, created.ID, apiclient.PatchEndUserInput{FirstName: &name})
	must(err)
	if patched.FirstName != "Patched" || patched.DisplayName != "Client Contract 2" {
		t.Errorf("got %+v after patch", patched)
	}
	outs, err = c.UpdateEndUsers(ctx, []apiclient.BulkUpdateEndUserInput{
		{ID: created.ID, UpdateEndUserInput: apiclient.UpdateEndUserInput{DisplayName: "Bulk Updated"}},
		{ID: "0f0f0f0f-0000-4000-8000-000000000000", UpdateEndUserInput: apiclient.UpdateEndUserInput{DisplayName: "x"}},
	})
	must(err)
	if len(outs) != 2 || !outs[0].OK() || outs[1].Error == nil || outs[1].Error.Type != apiclient.BulkErrNotFound {
		t.Errorf("got %+v, want a success and a NotFound", outs)
	}
	last := "Last"
	outs, err = c.PatchEndUsers(ctx, []apiclient.BulkPatchEndUserInput{
		{ID: created.ID, PatchEndUserInput: apiclient.PatchEndUserInput{LastName: &last}},
	})
	must(err)
	if len(outs) != 1 || !outs[0].OK() || outs[0].Data.LastName != "Last" {
		t.Errorf("got %+v, want the patched user", outs)
	}

	// Custom attributes.
	defs, err := c.ListCustomAttributeDefinitions(ctx)
	must(err)
	byIdent := map[string]apiclient.CustomAttributeDefinition{}
	for _, d := range defs {
		byIdent[d.Identifier] = d
	}
	loc, err := c.GetCustomAttributeDefinition(ctx, byIdent["location"].ID)
	must(err)
	if len(loc.InputDefinition.Options) == 0 {
		t.Errorf("got %+v, want the location options", loc)
	}
	attrs, err := c.PatchEndUserCustomAttributes(ctx, created.ID, map[string]apiclient.AttributeValue{
		byIdent["location"].ID:       apiclient.SelectValue("denmark", "odense"),
		byIdent["loyalty_number"].ID: apiclient.TextValue("LOY-777777"),
	})
	must(err)
	if len(attrs) != 2 {
		t.Errorf("got %+v, want the two attributes", attrs)
	}
	_, err = c.PatchEndUserCustomAttributes(ctx, created.ID, map[string]apiclient.AttributeValue{
		byIdent["loyalty_number"].ID: apiclient.ClearValue(),
	})
	must(err)
	if _, err := c.PatchEndUserCustomAttributes(ctx, created.ID, map[string]apiclient.AttributeValue{
		byIdent["parcel_id"].ID: apiclient.TextValue("1"),
	}); !errors.Is(err, apiclient.ErrBadRequest) {
		t.Errorf("got %v for a Conversation attribute, want ErrBadRequest", err)
	}

	// Conversations.
	cp, err := c.ListEndUserConversations(ctx, dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 10})
	must(err)
	if len(cp.Items) != 10 || cp.NextKey == "" {
		t.Errorf("got %d conversations, next %q; want 10 and a next key", len(cp.Items), cp.NextKey)
	}
	kinds := map[string]bool{}
	for conv, err := range c.EndUserConversations(ctx, dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 10}) {
		must(err)
		kinds[conv.Type] = true
	}
	if len(kinds) != 11 {
		t.Errorf("got %d conversation kinds, want 11", len(kinds))
	}

	// Anonymization.
	if _, err := c.AnonymizeEndUser(ctx, dixasim.DemoOpenConversationUserID, false); !errors.Is(err, apiclient.ErrConflict) {
		t.Errorf("got %v with open conversations, want ErrConflict", err)
	}
	req, err := c.AnonymizeEndUser(ctx, dixasim.DemoOpenConversationUserID, true)
	must(err)
	if string(req.EntityType) != `"UserAnonymizationType"` || req.Type != "User" || req.RequestedBy != dixasim.TokenOwnerID {
		t.Errorf("got %+v, want a User request", req)
	}
	status, err := c.GetAnonymizationRequest(ctx, req.ID)
	must(err)
	if !status.Processed() {
		t.Errorf("got %+v, want it processed (no delay)", status)
	}
	anon, err := c.GetEndUser(ctx, dixasim.DemoOpenConversationUserID)
	must(err)
	if anon.Email != "" {
		t.Errorf("got %+v, want the user blanked", anon)
	}
	if _, err := c.GetAnonymizationRequest(ctx, "0f0f0f0f-0000-4000-8000-000000000000"); !errors.Is(err, apiclient.ErrNotFound) {
		t.Errorf("got %v for an unknown request, want ErrNotFound", err)
	}
}

// clientConversations reads conversations, their content and agents with
// the client. It runs after clientRoundTrip, which anonymized
// DemoOpenConversationUserID.
func clientConversations(t *testing.T, c *apiclient.Client, sim *dixasim.Sim) {
	ctx := t.Context()
	deleted := map[string]bool{}
	for _, id := range sim.DeletedAgentIDs() {
		deleted[id] = true
	}
	agents := map[string]apiclient.Agent{}
	for a, err := range c.Agents(ctx, apiclient.AgentListOptions{PageLimit: 15}) {
		if err != nil {
			t.Fatal(err)
		}
		agents[a.ID] = a
	}
	if len(agents) < 40 {
		t.Errorf("got %d agents, want at least 40", len(agents))
	}
	kinds := map[string]bool{}
	for conv, err := range c.EndUserConversations(ctx, dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		one, err := c.GetConversation(ctx, conv.ID)
		if err != nil || one.ID != conv.ID || one.RequesterID != dixasim.DemoBusyUserID || one.Type != conv.Type {
			t.Fatalf("got %+v, %v for conversation %d", one, err, conv.ID)
		}
		if id := one.AssigneeID(); id != "" {
			if _, err := c.GetAgent(ctx, id); err != nil && !(deleted[id] && errors.Is(err, apiclient.ErrNotFound)) {
				t.Errorf("assignee %s of %d: %v", id, conv.ID, err)
			}
		}
		msgs, err := c.ListConversationMessages(ctx, conv.ID)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("got %d messages, %v for %d", len(msgs), err, conv.ID)
		}
		for _, m := range msgs {
			kinds[m.Attributes.Type] = true
		}
		if _, err := c.ListConversationNotes(ctx, conv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListConversationTags(ctx, conv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(kinds) != 12 {
		t.Errorf("got message kinds %v, want all 12", kinds)
	}
	huge, _ := sim.DemoConversationID(dixasim.DemoHugeMessage)
	msgs, err := c.ListConversationMessages(ctx, huge)
	if err != nil || len(msgs[0].Attributes.Body().Value) < 1<<20 || msgs[2].Attributes.TooLarge() == nil {
		t.Errorf("got %v for the huge conversation, want a 1 MB body and a TooLarge one", err)
	}
	for conv, err := range c.EndUserConversations(ctx, dixasim.DemoOpenConversationUserID, apiclient.PageOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := c.ListConversationMessages(ctx, conv.ID)
		if err != nil || !conv.IsAnonymized() || msgs[0].Attributes.Body() != nil && msgs[0].Attributes.Body().Value != "" {
			t.Errorf("got %v, %+v for anonymized conversation %d", err, msgs, conv.ID)
		}
	}
	if _, err := c.GetConversation(ctx, 1); !errors.Is(err, apiclient.ErrNotFound) {
		t.Errorf("got %v for an unknown conversation, want ErrNotFound", err)
	}
	if _, err := c.ListEndUserConversations(ctx, dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 101}); !errors.Is(err, apiclient.ErrBadRequest) {
		t.Errorf("got %v for pageLimit 101, want ErrBadRequest", err)
	}
}

// TestClientRespectsRateLimit runs the client with its default limiter
// (Dixa's 10 requests/second, burst 4) against the simulator enforcing the
// same limit: every call must succeed, and the simulator must never see
// more than the rate plus the burst within a second.
func TestClientRespectsRateLimit(t *testing.T) {
	sim := dixasim.New(dixasim.Options{APIKey: testKey, Users: 20, RateLimit: 10, Burst: 4, RetryAfter: true})
	srv := httptest.NewServer(validator(t).Middleware(t, sim))
	defer srv.Close()
	c, err := apiclient.New(srv.URL, apiclient.WithAPIKey(testKey), apiclient.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := c.GetEndUser(t.Context(), dixasim.DemoBusyUserID); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	st := sim.Stats().Total
	if st.MaxPerSecond > 15 {
		t.Errorf("got %d requests within a second, want at most 15 (10/s + burst 4 + 1 at the edge)", st.MaxPerSecond)
	}
	t.Logf("client vs simulator: %+v", st)
}
