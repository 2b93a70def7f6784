package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// GenesisHash is the PrevHash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeFormat is how an entry's time is written in its canonical form:
// UTC, to the microsecond, fixed width.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// EncodeDetails is the text of details that an entry's hash covers and
// that storage keeps: JSON with the keys sorted, "{}" when empty.
func EncodeDetails(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(d) // map keys are sorted
	return string(b)
}

// Canonical is the byte string an entry's hash covers: every field but
// the hashes, in a fixed order, as a JSON array, with details as its
// stored text (EncodeDetails when the entry was appended).
func Canonical(e Entry, details string) []byte {
	ts := ""
	if !e.Time.IsZero() {
		ts = e.Time.UTC().Format(TimeFormat)
	}
	b, _ := json.Marshal([]any{
		e.Seq, e.EventID, ts,
		e.ActorID, e.ActorName, e.ActorRole, e.ActorVia, e.SessionHash,
		e.Action, e.TargetType, e.TargetID, e.Outcome, e.CorrelationID,
		details,
	})
	return b
}

// Hash is the hex SHA-256 of Canonical(e, details) followed by prev, the
// hash of the entry before.
func Hash(e Entry, details, prev string) string {
	h := sha256.New()
	h.Write(Canonical(e, details))
	h.Write([]byte(prev))
	return hex.EncodeToString(h.Sum(nil))
}

// Seal makes e the entry after head (the zero Head for an empty log): its
// Seq follows head's, its PrevHash is head's hash, and its Hash covers its
// canonical form and PrevHash. It returns the details text the hash
// covers, which is what storage must keep.
func Seal(e Entry, head Head) (Entry, string) {
	prev := head.Hash
	if prev == "" {
		prev = GenesisHash
	}
	details := EncodeDetails(e.Details)
	e.Seq = head.Seq + 1
	e.PrevHash = prev
	e.Hash = Hash(e, details, prev)
	return e, details
}

// HashSession is how a session id appears in the log: the first 8 bytes
// of SHA-256 of "session:" and the id, in hex, from which the id cannot be
// recovered.
func HashSession(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("session:" + id))
	return hex.EncodeToString(sum[:8])
}

// Head is the position of the newest entry of the chain. Anchored outside
// the database (logged, printed by `console verify`, kept by the data
// protection officer), it lets a later verification detect entries cut
// off the end of the log, which a hash chain alone cannot.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// String is "seq:hash", the form ParseHead reads.
func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseHead parses "seq:hash".
func ParseHead(s string) (Head, error) {
	n, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	var h Head
	if _, err := fmt.Sscan(n, &h.Seq); !ok || err != nil || len(hash) != 64 {
		return Head{}, fmt.Errorf("head %q: want seq:sha256hex", s)
	}
	h.Hash = hash
	return h, nil
}
