package audit

import (
	"context"
	"fmt"
)

// Result is the outcome of a chain verification.
type Result struct {
	Entries int64
	Head    Head
	// Problems lists every inconsistency found, first ones first (at most
	// maxProblems).
	Problems []string
}

// OK reports whether the chain verified.
func (r Result) OK() bool { return len(r.Problems) == 0 }

const maxProblems = 100

// Verify reads the whole chain in sequence order and checks that sequence
// numbers run 1, 2, 3… without gaps, that each entry's PrevHash is the
// previous entry's Hash, and that each entry's Hash is Hash of its
// canonical form and PrevHash. A changed entry breaks its own hash; a
// deleted one leaves a gap and a broken link; an inserted or reordered one
// breaks links or sequence. When anchors are given (heads recorded
// earlier, outside the database), each must still be in the chain with the
// same hash, which also catches entries cut off the end.
func Verify(ctx context.Context, c Chain, anchors ...Head) (Result, error) {
	v := verifier{prev: GenesisHash, expect: 1, seen: map[int64]string{}}
	if err := c.EachAudit(ctx, func(e Entry, details string) error {
		v.add(e, details)
		return nil
	}); err != nil {
		return v.res, err
	}
	for _, a := range anchors {
		got, ok := v.seen[a.Seq]
		switch {
		case !ok:
			v.problem("anchor %d: entry no longer exists (log truncated)", a.Seq)
		case got != a.Hash:
			v.problem("anchor %d: hash differs from the anchored one (log rewritten)", a.Seq)
		}
	}
	return v.res, nil
}

// verifier checks entries one by one, in sequence order.
type verifier struct {
	res    Result
	prev   string
	expect int64
	seen   map[int64]string // seq → hash, for the anchors
}

func (v *verifier) problem(format string, args ...any) {
	if len(v.res.Problems) < maxProblems {
		v.res.Problems = append(v.res.Problems, fmt.Sprintf(format, args...))
	}
}

func (v *verifier) add(e Entry, details string) {
	v.res.Entries++
	if e.Seq != v.expect {
		v.problem("entry %d: expected sequence number %d (entries missing or inserted)", e.Seq, v.expect)
	}
	if e.PrevHash != v.prev {
		v.problem("entry %d: prev_hash does not match the previous entry's hash (entry deleted, inserted or reordered before it)", e.Seq)
	}
	if Hash(e, details, e.PrevHash) != e.Hash {
		v.problem("entry %d: content does not match its hash (entry changed)", e.Seq)
	}
	v.seen[e.Seq] = e.Hash
	v.prev = e.Hash
	v.expect = e.Seq + 1
	v.res.Head = Head{Seq: e.Seq, Hash: e.Hash}
}
