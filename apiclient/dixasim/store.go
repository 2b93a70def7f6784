package dixasim

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// store is the organisation's data. It is guarded by Sim.mu. Slices held by
// stored values are replaced, never modified in place, and conversations
// are stored by value, so a copy taken under the read lock stays valid.
type store struct {
	rng *rand.Rand // new ids; deterministic for a seed

	users  map[string]*user
	order  []*user           // by createdAt, then id: the list order
	phones map[string]string // every phone number (primary and additional) → user id
	emails map[string]string // lower-cased primary email → user id

	defs    []*definition // in display order
	defByID map[string]*definition

	requests map[string]*anonRequest
	pending  []*anonRequest // not processed yet

	nextConvID int64

	seed      int64           // for the content generated on demand
	convOwner map[int64]*user // conversation id → requester

	agents  []*wireAgent // the directory, in list order
	agentBy map[string]*wireAgent
	humans  []string // ids of the directory's agents but the bot
	deleted []string // ids of agents no longer in the directory
	bot     string   // id of the agent writing automated messages
	tags    []wireTag
}

// user is a stored end user.
type user struct {
	wireEndUser                      // as on the wire, CustomAttributes always nil
	attrs       map[string]attrValue // by definition id
	convs       []wireConversation   // by createdAt, then id
	anonymized  bool
}

func (u *user) pos() position { return position{T: u.CreatedAt.UnixNano(), ID: u.ID} }

// anonRequest is an anonymization request; it is processed (ProcessedAt
// set, data blanked) lazily, by the first request after due.
type anonRequest struct {
	wireAnonRequest
	due time.Time
}

func newStore(seed int64) *store {
	return &store{
		rng:        rand.New(rand.NewPCG(uint64(seed), 0x64697861)),
		users:      map[string]*user{},
		phones:     map[string]string{},
		emails:     map[string]string{},
		defByID:    map[string]*definition{},
		requests:   map[string]*anonRequest{},
		nextConvID: 10000,
		seed:       seed,
		convOwner:  map[int64]*user{},
		agentBy:    map[string]*wireAgent{},
	}
}

// newID returns a version 4 uuid from the store's generator, so that a
// simulator replays the same ids for the same requests.
func (st *store) newID() string { return randomID(st.rng) }

// addAgent adds a to the directory, in list order (createdAt, then id).
func (st *store) addAgent(a *wireAgent) {
	p := a.pos()
	i := sort.Search(len(st.agents), func(i int) bool { return st.agents[i].pos().compare(p) > 0 })
	st.agents = slices.Insert(st.agents, i, a)
	st.agentBy[a.ID] = a
	if a.ID != st.bot && a.ID != TokenOwnerID {
		st.humans = append(st.humans, a.ID)
	}
}

// agentName is how an email signs for the agent: the directory's display
// name, the team's name for a deleted agent.
func (st *store) agentName(id string) string {
	if a, ok := st.agentBy[id]; ok {
		return a.DisplayName
	}
	return "Nordlys"
}

// conversation finds a conversation by id.
func (st *store) conversation(id int64) (wireConversation, bool) {
	u, ok := st.convOwner[id]
	if !ok {
		return wireConversation{}, false
	}
	for _, c := range u.convs {
		if c.ID == id {
			return c, true
		}
	}
	return wireConversation{}, false
}

// insert adds a new user in list order.
func (st *store) insert(u *user) {
	st.users[u.ID] = u
	p := u.pos()
	i := sort.Search(len(st.order), func(i int) bool { return st.order[i].pos().compare(p) > 0 })
	st.order = slices.Insert(st.order, i, u)
	st.index(u)
}

// index and unindex maintain the uniqueness indexes for u's current fields.
func (st *store) index(u *user) {
	if u.Email != "" {
		st.emails[strings.ToLower(u.Email)] = u.ID
	}
	for _, p := range phonesOf(&u.wireEndUser) {
		st.phones[p] = u.ID
	}
}

func (st *store) unindex(u *user) {
	if e := strings.ToLower(u.Email); e != "" && st.emails[e] == u.ID {
		delete(st.emails, e)
	}
	for _, p := range phonesOf(&u.wireEndUser) {
		if st.phones[p] == u.ID {
			delete(st.phones, p)
		}
	}
}

// update replaces u's fields with f (id and createdAt are kept).
func (st *store) update(u *user, f wireEndUser) {
	st.unindex(u)
	f.ID, f.CreatedAt, f.CustomAttributes = u.ID, u.CreatedAt, nil
	u.wireEndUser = f
	st.index(u)
}

func phonesOf(u *wireEndUser) []string {
	ps := make([]string, 0, 1+len(u.AdditionalPhoneNumbers))
	if u.PhoneNumber != "" {
		ps = append(ps, u.PhoneNumber)
	}
	return append(ps, u.AdditionalPhoneNumbers...)
}

// Validation error codes, written into messages the way Dixa's bulk
// examples show "[errors=PhoneNumberExists]". Only PhoneNumberExists is
// Dixa's; the others are the simulator's (UNCONFIRMED).
const (
	codePhoneExists    = "PhoneNumberExists"
	codeEmailExists    = "EmailExists"
	codeInvalidPhone   = "InvalidPhoneNumber"
	codeInvalidEmail   = "InvalidEmail"
	codeDuplicatePhone = "DuplicatePhoneNumber"
	codeDuplicateEmail = "DuplicateEmail"
	codeNoDisplayName  = "DisplayNameRequired"
)

// check validates f as the new fields of the user self ("" for a new user)
// and returns the error codes, none when valid. The rules (all UNCONFIRMED
// for Dixa except phone uniqueness):
//   - phone numbers are E.164 (+ and 7–15 digits) and unique in the
//     organisation across primary and additional numbers (PhoneNumberExists,
//     as Dixa's bulk examples show);
//   - the primary email is unique in the organisation, compared without
//     case (EmailExists, for the spec's "Duplicate email address" reason);
//     additional emails are not checked against other users, as Dixa's
//     contact points for email are not documented to be unique;
//   - emails look like local@domain.tld;
//   - the additional lists hold no duplicates (uniqueItems in the spec).
func (st *store) check(f *wireEndUser, self string) []string {
	var codes []string
	add := func(code string) {
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	if f.Email != "" && !validEmail(f.Email) {
		add(codeInvalidEmail)
	}
	seen := map[string]bool{}
	for _, e := range f.AdditionalEmails {
		if !validEmail(e) {
			add(codeInvalidEmail)
		}
		if k := strings.ToLower(e); seen[k] {
			add(codeDuplicateEmail)
		} else {
			seen[k] = true
		}
	}
	if id, ok := st.emails[strings.ToLower(f.Email)]; ok && f.Email != "" && id != self {
		add(codeEmailExists)
	}
	clear(seen)
	for _, p := range phonesOf(f) {
		if !validPhone(p) {
			add(codeInvalidPhone)
		}
		if seen[p] {
			add(codeDuplicatePhone)
		}
		seen[p] = true
		if id, ok := st.phones[p]; ok && id != self {
			add(codePhoneExists)
		}
	}
	// An empty entry in an additional list is invalid too.
	for _, p := range f.AdditionalPhoneNumbers {
		if p == "" {
			add(codeInvalidPhone)
		}
	}
	return codes
}

// validPhone accepts E.164: "+", a non-zero digit, 6–14 more digits.
func validPhone(p string) bool {
	if len(p) < 8 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return false
	}
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validEmail is deliberately simple: one "@", something before it, a dot
// in the domain, no spaces.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && len(e) <= 254 &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") &&
		!strings.ContainsAny(e, " \t\r\n<>,;\"") && !strings.Contains(domain, "@")
}

// single returns u as a single-user answer: with its custom attributes.
func (st *store) single(u *user) wireEndUser {
	w := u.wireEndUser.clone()
	attrs := st.attributes(u, nil)
	w.CustomAttributes = &attrs
	return w
}

// attributes returns u's custom attribute values in definition order; only
// those in ids when ids is not nil.
func (st *store) attributes(u *user, ids map[string]bool) []wireAttribute {
	out := []wireAttribute{}
	for _, d := range st.defs {
		v, ok := u.attrs[d.ID]
		if !ok || (ids != nil && !ids[d.ID]) {
			continue
		}
		out = append(out, wireAttribute{ID: d.ID, Name: d.Label, Identifier: d.Identifier, Value: v.wire()})
	}
	return out
}

// anonymizedName replaces an anonymized user's display name (what Dixa
// shows is UNCONFIRMED).
const anonymizedName = "Anonymized user"

// anonymize blanks u's personal data and anonymizes its conversations. The
// record itself stays (so GET still answers and lists still include it);
// what Dixa keeps is UNCONFIRMED.
func (st *store) anonymize(u *user, at time.Time) {
	st.unindex(u)
	u.wireEndUser = wireEndUser{ID: u.ID, CreatedAt: u.CreatedAt, DisplayName: anonymizedName}
	u.attrs = nil
	convs := make([]wireConversation, len(u.convs))
	for i, c := range u.convs {
		convs[i] = c.anonymized(at)
	}
	u.convs = convs
	u.anonymized = true
}

// hasDue reports whether an anonymization request has become due.
func (st *store) hasDue(now time.Time) bool {
	for _, r := range st.pending {
		if !now.Before(r.due) {
			return true
		}
	}
	return false
}

// applyDue processes the requests that are due: as of their due time, not
// of now, so that processedAt does not depend on when someone looks.
func (st *store) applyDue(now time.Time) {
	keep := st.pending[:0]
	for _, r := range st.pending {
		if now.Before(r.due) {
			keep = append(keep, r)
			continue
		}
		r.ProcessedAt = &apiclient.ZonedTime{Time: r.due}
		if u, ok := st.users[r.TargetEntityID]; ok {
			st.anonymize(u, r.due)
		}
	}
	clear(st.pending[len(keep):])
	st.pending = keep
}

// settle processes due anonymizations. It is called before every handler,
// so that no goroutine is needed for the delay; the common case (nothing
// pending) takes only the read lock.
func (s *Sim) settle() {
	now := s.now()
	s.mu.RLock()
	due := s.st.hasDue(now)
	s.mu.RUnlock()
	if !due {
		return
	}
	s.mu.Lock()
	s.st.applyDue(now)
	s.mu.Unlock()
}

// AnyUserID returns the id of the first end user, in list order, for which
// pred returns true. pred sees the user as GET /endusers/{id} returns it,
// custom attributes included. It runs on a snapshot, without the lock, so
// it may call the simulator.
func (s *Sim) AnyUserID(pred func(apiclient.EndUser) bool) (string, bool) {
	s.settle()
	s.mu.RLock()
	users := make([]apiclient.EndUser, len(s.st.order))
	for i, u := range s.st.order {
		users[i] = s.st.model(u)
	}
	s.mu.RUnlock()
	for _, u := range users {
		if pred(u) {
			return u.ID, true
		}
	}
	return "", false
}

// UserCount returns the number of end users (anonymized ones included).
func (s *Sim) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.order)
}

// model converts u to the client's model.
func (st *store) model(u *user) apiclient.EndUser {
	m := apiclient.EndUser{
		ID:                     u.ID,
		CreatedAt:              u.CreatedAt,
		DisplayName:            u.DisplayName,
		Email:                  u.Email,
		PhoneNumber:            u.PhoneNumber,
		AdditionalEmails:       slices.Clone(u.AdditionalEmails),
		AdditionalPhoneNumbers: slices.Clone(u.AdditionalPhoneNumbers),
		FirstName:              u.FirstName,
		LastName:               u.LastName,
		MiddleNames:            slices.Clone(u.MiddleNames),
		AvatarURL:              u.AvatarURL,
		ExternalID:             u.ExternalID,
	}
	for _, a := range st.attributes(u, nil) {
		v := apiclient.TextValue("")
		switch x := a.Value.(type) {
		case string:
			v = apiclient.TextValue(x)
		case []string:
			v = apiclient.SelectValue(x...)
		}
		m.CustomAttributes = append(m.CustomAttributes, apiclient.CustomAttribute{
			ID: a.ID, Name: a.Name, Identifier: a.Identifier, Value: v,
		})
	}
	return m
}
