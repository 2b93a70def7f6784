package erasure

import (
	"context"
	"time"
)

// Receipt is the erasure receipt: who asked, who approved, why, and when
// each step happened — no personal data of the erased customer.
type Receipt struct {
	ErasureID     string        `json:"erasureId"`
	DixaRequestID string        `json:"dixaRequestId"`
	SubjectID     string        `json:"subjectId"`
	RequestedBy   ReceiptActor  `json:"requestedBy"`
	ApprovedBy    *ReceiptActor `json:"approvedBy"`
	Reference     string        `json:"reference"`
	Reason        string        `json:"reason"`
	ReceivedAt    string        `json:"receivedAt"`
	Deadline      string        `json:"deadline"`
	SubmittedAt   *time.Time    `json:"submittedAt"`
	ProcessedAt   *time.Time    `json:"processedAt"`
	VerifiedAt    *time.Time    `json:"verifiedAt"`
	Force         bool          `json:"force"`
	State         State         `json:"state"`
	AuditHash     string        `json:"auditHash"`
}

// ReceiptActor is a person on a receipt.
type ReceiptActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Receipt returns a request and its receipt; the receipt ends with the
// hash of the newest audit entry about the request, which ties it to the
// tamper-evident log.
func (s *Service) Receipt(ctx context.Context, id string) (Erasure, Receipt, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return e, Receipt{}, err
	}
	rc := Receipt{ErasureID: e.ID, DixaRequestID: e.DixaRequestID, SubjectID: e.SubjectID,
		RequestedBy: ReceiptActor{ID: e.RequestedByID, Name: e.RequestedByName},
		Reference:   e.Reference, Reason: e.Reason, ReceivedAt: FmtDate(e.ReceivedAt), Deadline: FmtDate(e.Deadline),
		SubmittedAt: timePtr(e.SubmittedAt), ProcessedAt: timePtr(e.ProcessedAt), VerifiedAt: timePtr(e.VerifiedAt),
		Force: e.Force, State: e.State}
	if e.State != Requested && e.State != Rejected && e.DecidedByID != "" {
		rc.ApprovedBy = &ReceiptActor{ID: e.DecidedByID, Name: e.DecidedByName}
	}
	if rc.AuditHash, err = s.Store.ErasureAuditHash(ctx, e.ID); err != nil {
		return e, rc, err
	}
	return e, rc, nil
}
