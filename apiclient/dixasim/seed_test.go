package dixasim

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/example/dixa-console/apiclient"
)

func TestSeedDemoOrganisation(t *testing.T) {
	st := seed(1, 1200)
	if got := len(st.order); got != 1200 {
		t.Fatalf("got %d users, want 1200", got)
	}
	var (
		kinds, channels, states, countryCodes = map[string]int{}, map[string]int{}, map[string]int{}, map[string]bool{}
		convIDs                               = map[int64]bool{}
		closed, total, withAttrs, withExt     int
		withAvatar, withAddEmail, withAddPh   int
		anonymized                            int
		scripts                               = map[string]bool{}
		phones                                = map[string]string{}
		crm                                   = regexp.MustCompile(`^#CRM-\d{6}$`)
	)
	earliest := refDate.AddDate(-3, 0, -1)
	for i, u := range st.order {
		if i > 0 && st.order[i-1].pos().compare(u.pos()) >= 0 {
			t.Fatalf("got users out of order at %d", i)
		}
		if u.CreatedAt.Before(earliest) || u.CreatedAt.After(refDate) {
			t.Errorf("got createdAt %v, want within three years before %v", u.CreatedAt, refDate)
		}
		if codes := st.check(&u.wireEndUser, u.ID); len(codes) > 0 {
			t.Errorf("got %v for seeded user %s %+v, want it valid", codes, u.ID, u.wireEndUser)
		}
		for _, p := range phonesOf(&u.wireEndUser) {
			if other, ok := phones[p]; ok {
				t.Errorf("got phone %s on %s and %s, want unique", p, other, u.ID)
			}
			phones[p] = u.ID
			for _, cc := range []string{"+45", "+46", "+49", "+44", "+1", "+33", "+34", "+48", "+90", "+81", "+86", "+30", "+91", "+971", "+31"} {
				if strings.HasPrefix(p, cc) {
					countryCodes[cc] = true
				}
			}
		}
		for _, e := range append([]string{u.Email}, u.AdditionalEmails...) {
			for _, r := range e {
				if r > unicode.MaxASCII {
					t.Errorf("got non-ASCII email %q, want folded", e)
					break
				}
			}
		}
		for _, r := range u.DisplayName {
			for name, tab := range map[string]*unicode.RangeTable{"Arabic": unicode.Arabic, "Han": unicode.Han,
				"Greek": unicode.Greek, "Devanagari": unicode.Devanagari} {
				if unicode.Is(tab, r) {
					scripts[name] = true
				}
			}
			if r > unicode.MaxASCII && unicode.IsLetter(r) && unicode.Is(unicode.Latin, r) {
				scripts["Latin with diacritics"] = true
			}
		}
		if len(u.attrs) > 0 {
			withAttrs++
		}
		if crm.MatchString(u.ExternalID) {
			withExt++
		}
		if strings.HasPrefix(u.AvatarURL, "https://") {
			withAvatar++
		}
		if len(u.AdditionalEmails) > 0 {
			withAddEmail++
		}
		if len(u.AdditionalPhoneNumbers) > 0 {
			withAddPh++
		}
		if u.anonymized {
			anonymized++
		}
		if len(u.convs) > 30 {
			t.Errorf("got %d conversations for %s, want at most 30", len(u.convs), u.ID)
		}
		for j, c := range u.convs {
			kinds[c.Type]++
			channels[c.Channel]++
			states[c.State]++
			total++
			if c.State == apiclient.StateClosed {
				closed++
			}
			if convIDs[c.ID] {
				t.Errorf("got conversation id %d twice", c.ID)
			}
			convIDs[c.ID] = true
			if c.CreatedAt.Before(u.CreatedAt.Time) {
				t.Errorf("got conversation %d created before its requester", c.ID)
			}
			if j > 0 && u.convs[j-1].pos().compare(c.pos()) >= 0 {
				t.Errorf("got conversations of %s out of order", u.ID)
			}
			if (c.Type == apiclient.ConvEmail || c.Type == apiclient.ConvContactForm) && c.Subject == "" {
				t.Errorf("got %s %d without a subject", c.Type, c.ID)
			}
			if c.Link != nil && !convIDs[c.Link.ParentID] {
				t.Errorf("got conversation %d linked to %d, want an earlier conversation", c.ID, c.Link.ParentID)
			}
		}
	}
	if len(kinds) != 11 || len(channels) != 11 || len(states) != 4 {
		t.Errorf("got kinds %v, channels %v, states %v; want 11, 11, 4", kinds, channels, states)
	}
	if closed*100 < total*85 {
		t.Errorf("got %d of %d conversations closed, want most", closed, total)
	}
	if total < 5000 {
		t.Errorf("got %d conversations, want several per user", total)
	}
	if len(countryCodes) != 15 {
		t.Errorf("got phone country codes %v, want all 15", countryCodes)
	}
	for _, s := range []string{"Arabic", "Han", "Greek", "Devanagari", "Latin with diacritics"} {
		if !scripts[s] {
			t.Errorf("got no %s display name, want some", s)
		}
	}
	for name, n := range map[string]int{"custom attributes": withAttrs, "external ids": withExt, "avatars": withAvatar,
		"additional emails": withAddEmail, "additional phones": withAddPh, "anonymized users": anonymized} {
		if n < 5 {
			t.Errorf("got %d users with %s, want some", n, name)
		}
	}
	if withAttrs < 600 {
		t.Errorf("got %d users with custom attributes, want many", withAttrs)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	dump := func(st *store) string {
		var b strings.Builder
		for _, u := range st.order {
			j, _ := json.Marshal(struct {
				U wireEndUser
				C []wireConversation
				A []wireAttribute
			}{u.wireEndUser, u.convs, st.attributes(u, nil)})
			b.Write(j)
		}
		return b.String()
	}
	a, b, c := dump(seed(7, 300)), dump(seed(7, 300)), dump(seed(8, 300))
	if a != b {
		t.Errorf("got different data for the same seed")
	}
	if a == c {
		t.Errorf("got the same data for different seeds")
	}
}

func TestSeedSmallOrganisations(t *testing.T) {
	tests := []struct {
		users, want int
	}{
		{-1, 0},
		{1, 1},
		{3, 3},
		{10, 10},
	}
	for _, tt := range tests {
		st := seed(1, tt.users)
		if got := len(st.order); got != tt.want {
			t.Errorf("seed(1, %d): got %d users, want %d", tt.users, got, tt.want)
		}
		if len(st.defs) == 0 {
			t.Errorf("seed(1, %d): got no definitions, want them always", tt.users)
		}
	}
	if _, ok := seed(1, 1).users[DemoScriptUserID]; !ok {
		t.Errorf("got no script demo user first, want the well-known users first")
	}
}

func TestPageKeys(t *testing.T) {
	c := newPageKeyCodec(1)
	cur := cursor{Scope: "endusers", Limit: 10, Filter: filter{Email: "a@b.example"}, After: &position{T: 42, ID: "x"}}
	key := c.encode(cur)
	got, err := c.decode(key)
	if err != nil || got.Scope != cur.Scope || got.Limit != 10 || got.Filter != cur.Filter || got.After == nil || *got.After != *cur.After {
		t.Fatalf("got %+v, %v; want %+v", got, err, cur)
	}
	tampered := []byte(key)
	tampered[12] ^= 0x01
	for _, bad := range []string{"", "!!!", "AAAA", string(tampered), newPageKeyCodec(2).encode(cur)} {
		if _, err := c.decode(bad); err == nil {
			t.Errorf("decode(%q): got no error, want one", bad)
		}
	}
}

func TestPageOf(t *testing.T) {
	items := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	pos := func(i int) position { return position{T: int64(i)} }
	even := func(i int) bool { return i%2 == 0 }
	tests := []struct {
		name       string
		cur        cursor
		want       []int
		prev, next int64 // 0: none
	}{
		{"first", cursor{Limit: 2}, []int{2, 4}, 0, 4},
		{"after", cursor{Limit: 2, After: &position{T: 4}}, []int{6, 8}, 6, 0},
		{"before", cursor{Limit: 2, Before: &position{T: 6}}, []int{2, 4}, 0, 4},
		{"before, short", cursor{Limit: 5, Before: &position{T: 4}}, []int{2}, 0, 2},
		{"past the end", cursor{Limit: 2, After: &position{T: 9}}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, prev, next := pageOf(items, pos, even, tt.cur)
			if len(page) != len(tt.want) || (len(page) > 0 && (page[0] != tt.want[0] || page[len(page)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("got %v, want %v", page, tt.want)
			}
			if got := posT(prev); got != tt.prev {
				t.Errorf("got prev %d, want %d", got, tt.prev)
			}
			if got := posT(next); got != tt.next {
				t.Errorf("got next %d, want %d", got, tt.next)
			}
		})
	}
}

func posT(p *position) int64 {
	if p == nil {
		return 0
	}
	return p.T
}

// BenchmarkSeed measures seeding the default organisation of 1200 users.
func BenchmarkSeed(b *testing.B) {
	for b.Loop() {
		seed(1, 1200)
	}
}

// BenchmarkGetEndUser measures GET /v1/endusers/{id} through ServeHTTP.
func BenchmarkGetEndUser(b *testing.B) {
	s := New(Options{APIKey: "k"})
	req := httptest.NewRequest("GET", "/v1/endusers/"+DemoBusyUserID, nil)
	req.Header.Set("Authorization", "k")
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("got %d", rec.Code)
		}
	}
}

func TestSeedAgentsAndAssignees(t *testing.T) {
	st := seed(1, 1200)
	if len(st.agents) < 41 || len(st.humans) < 40 || len(st.deleted) == 0 {
		t.Fatalf("got %d agents, %d humans, %d deleted; want at least 41, 40, 1", len(st.agents), len(st.humans), len(st.deleted))
	}
	emails := map[string]bool{}
	for i, a := range st.agents {
		if i > 0 && st.agents[i-1].pos().compare(a.pos()) >= 0 {
			t.Errorf("got agents out of order at %d", i)
		}
		if a.DisplayName == "" || !validEmail(a.Email) || emails[a.Email] || len(a.Roles) == 0 {
			t.Errorf("got agent %+v", a)
		}
		emails[a.Email] = true
	}
	byDirectory, byDeleted, convs := 0, 0, 0
	for _, u := range st.order {
		for _, c := range u.convs {
			convs++
			if st.convOwner[c.ID] != u {
				t.Errorf("conversation %d: not indexed under its requester", c.ID)
			}
			if c.RequesterID != u.ID || c.src == nil {
				t.Errorf("conversation %d: requester %s, source %v", c.ID, c.RequesterID, c.src)
			}
			if c.Assignment == nil {
				continue
			}
			switch id := c.Assignment.AgentID; {
			case st.agentBy[id] != nil && id != st.bot && id != TokenOwnerID:
				byDirectory++
			case slices.Contains(st.deleted, id):
				byDeleted++
			default:
				t.Errorf("conversation %d: assigned to unknown agent %s", c.ID, id)
			}
		}
	}
	if len(st.convOwner) != convs || byDeleted == 0 || byDirectory < 10*byDeleted {
		t.Errorf("got %d indexed of %d conversations, %d assigned in the directory, %d to deleted agents",
			len(st.convOwner), convs, byDirectory, byDeleted)
	}
}

// BenchmarkConversationMessages measures GET /v1/conversations/{id}/messages
// through ServeHTTP: content is generated per request.
func BenchmarkConversationMessages(b *testing.B) {
	s := New(Options{APIKey: "k"})
	huge, _ := s.DemoConversationID(DemoHugeMessage)
	thread, _ := s.DemoConversationID(DemoHostileEmail)
	for _, bc := range []struct {
		name string
		id   int64
	}{{"thread", thread}, {"huge", huge}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/conversations/"+strconv.FormatInt(bc.id, 10)+"/messages", nil)
			req.Header.Set("Authorization", "k")
			for b.Loop() {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("got %d", rec.Code)
				}
			}
		})
	}
}
