// Package erasure is the GDPR erasure workflow: a lead requests that one
// Dixa end user be anonymized, a second lead approves (four eyes), the
// console sends the one anonymize call to Dixa, follows Dixa's processing,
// verifies the result, scrubs what the console itself holds about the
// person, and issues a receipt.
//
// The package owns the states, the rules and the small interfaces it needs:
// Store (the console's database), Dixa (the API client), Auditor (the audit
// log) and Scrubber (the console's own copies of personal data). It imports
// no HTTP server code and no storage code.
package erasure

import "time"

// State is where an erasure request stands.
type State string

// The states. An erasure moves requested → approved → submitted →
// processed → verified; it can end rejected (by a lead), blocked (Dixa
// refused because of open conversations) or failed. A request an agent
// hands to the leads starts as a draft, which a lead completes (→
// requested) or discards (→ rejected).
const (
	Draft     State = "draft"
	Requested State = "requested"
	Approved  State = "approved"
	Rejected  State = "rejected"
	Submitted State = "submitted"
	Blocked   State = "blocked"
	Processed State = "processed"
	Verified  State = "verified"
	Failed    State = "failed"
)

// Final reports whether an erasure in state s will not change again on its
// own.
func (s State) Final() bool {
	switch s {
	case Rejected, Blocked, Verified, Failed:
		return true
	}
	return false
}

// String returns the state's name.
func (s State) String() string { return string(s) }

// Erasure is a request to anonymise one end user, from the lead's request
// through approval and Dixa's processing to verification. It holds no
// personal data of the customer: only their Dixa id.
type Erasure struct {
	ID        string
	SubjectID string // the Dixa end user id
	State     State

	Reference   string    // DSAR / ticket reference
	Reason      string    // legal ground
	ReceivedAt  time.Time // date the data subject's request arrived
	Deadline    time.Time // date; one month after ReceivedAt, or extended
	Force       bool
	ForceReason string
	// ConversationCount is how many conversations the preview showed.
	ConversationCount int

	RequestedByID, RequestedByName string
	RequestedAt                    time.Time

	// HandedOverByID and HandedOverByName are the agent who handed the
	// request to the leads as a draft, at HandedOverAt, with Note for the
	// lead who completes it; empty for a request a lead made directly.
	HandedOverByID, HandedOverByName string
	HandedOverAt                     time.Time
	Note                             string

	DecidedByID, DecidedByName string // approver or rejecter
	DecidedAt                  time.Time
	DecisionComment            string

	SubmittedAt   time.Time
	DixaRequestID string
	ProcessedAt   time.Time
	VerifiedAt    time.Time
	// BlockedConversations are the open conversations Dixa's 409 was about.
	BlockedConversations []int64
	// Failure is a safe, non-personal description of what went wrong, or
	// why the request went back for approval.
	Failure string
	// MaybeSent is set when an anonymize call for this request may have
	// reached Dixa without the console learning the outcome. Before any
	// further call the console looks at the customer in Dixa first.
	MaybeSent bool

	ExtendedAt      time.Time
	ExtendedByID    string
	ExtensionReason string

	PollAttempts  int
	NextPollAt    time.Time
	LastCheckedAt time.Time
	UpdatedAt     time.Time
}

// Overdue reports whether the deadline has passed without the erasure
// being finished.
func (e Erasure) Overdue(now time.Time) bool {
	if e.State == Verified || e.State == Rejected {
		return false
	}
	end := e.Deadline.AddDate(0, 0, 1) // the deadline day counts
	return !e.Deadline.IsZero() && !now.Before(end)
}

// Deadline is the GDPR Art. 12(3) deadline: one month after the request was
// received (clamped at month end: 31 January → 28/29 February).
func Deadline(received time.Time) time.Time {
	y, m, d := received.Date()
	first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// Extend is the one allowed extension of a deadline: by two further months.
func Extend(deadline time.Time) time.Time { return deadline.AddDate(0, 2, 0) }

// FmtDate writes a calendar date as YYYY-MM-DD ("" for the zero time).
func FmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}
