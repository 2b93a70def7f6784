// Package audit is the console's tamper-evident log of who did what: the
// entry, the hash chain that links every entry to the one before it, the
// verification of that chain, and the recording of an action.
//
// Storage keeps the entries (Store); this package decides what an entry
// holds, how it is hashed and what makes a chain valid. It imports no HTTP
// and no storage code.
package audit

import "time"

// Entry is one line of the audit log: who (actor), did what (action) to
// what (target), with which outcome, when, under which correlation id.
// Details carries field NAMES and other non-personal facts (a DSAR
// reference, a Dixa request id, a force flag), never the values of a
// customer's personal fields.
type Entry struct {
	Seq     int64
	EventID string
	Time    time.Time // UTC, set when the entry is appended

	ActorID     string // the SSO identity
	ActorName   string
	ActorRole   string // viewer, agent, lead ("" when not signed in)
	ActorVia    string // how the role was granted, e.g. "group support-leads"
	SessionHash string // HashSession of the session id, never the id

	Action        string // e.g. "erasure.approved", "enduser.updated"
	TargetType    string // e.g. "enduser", "erasure", "job"
	TargetID      string
	Outcome       Outcome
	CorrelationID string // the request id of the request that did it

	Details map[string]string

	PrevHash string
	Hash     string
}

// Outcome says how an action ended.
type Outcome string

// The outcomes used across the console. Other values are allowed (an
// erasure that was never sent records "not_sent"); an empty outcome is
// recorded as OutcomeOK.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeDenied  Outcome = "denied"  // refused for lack of a role or of a recent sign-in
	OutcomeFailed  Outcome = "failed"  // tried, and it did not happen (or its result is unknown)
	OutcomeBlocked Outcome = "blocked" // refused by a rule before anything was sent
)

// ActionAccessDenied is the action of a refusal by role, whether the route
// middleware or the handler's own check refused.
const ActionAccessDenied = "access.denied"
