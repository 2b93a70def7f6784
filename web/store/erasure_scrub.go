package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/example/dixa-console/web/erasure"
)

// The identifiers of a person to be erased (emails, phone numbers, names,
// external id) are needed once more after Dixa has processed the erasure,
// to scrub the console's own records, and that may be a day and a restart
// later. They are kept sealed: AES-256-GCM under a key derived from the
// identifier key, which lives outside the database, bound to the erasure
// id. A copy of the database alone does not reveal them. They are deleted
// as soon as the scrub has run, or the erasure ended otherwise.

// scrubKeyInfo separates the sealing key from the HMAC use of the same
// identifier key.
const scrubKeyInfo = "dixa-console erasure scrub list v1"

func (s *Store) scrubAEAD() (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, s.idKey, nil, scrubKeyInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealScrubList stores values sealed for erasure id, within tx. Nothing is
// stored for no values.
func (s *Store) sealScrubList(ctx context.Context, tx *sql.Tx, id string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	aead, err := s.scrubAEAD()
	if err != nil {
		return fmt.Errorf("store: scrub key: %w", err)
	}
	plain, err := json.Marshal(values)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(id)))
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasure_scrub (erasure_id, sealed) VALUES (?, ?)`), id, sealed); err != nil {
		return fmt.Errorf("store: insert scrub list: %w", err)
	}
	return nil
}

// ScrubList opens the sealed identifiers of an erasure; ErrNotFound when
// there are none (never stored, or deleted after the scrub).
func (s *Store) ScrubList(ctx context.Context, id string) ([]string, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT sealed FROM erasure_scrub WHERE erasure_id = ?`), id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errErasureNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: read scrub list: %w", err)
	}
	return s.openScrubList(id, sealed)
}

// openScrubList opens a sealed scrub list of erasure id.
func (s *Store) openScrubList(id, sealed string) ([]string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("store: scrub list: %w", err)
	}
	aead, err := s.scrubAEAD()
	if err != nil {
		return nil, fmt.Errorf("store: scrub key: %w", err)
	}
	if len(raw) < aead.NonceSize() {
		return nil, errors.New("store: scrub list too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("store: scrub list does not open (another key?): %w", err)
	}
	var values []string
	if err := json.Unmarshal(plain, &values); err != nil {
		return nil, fmt.Errorf("store: scrub list: %w", err)
	}
	return values, nil
}

// DropScrubList deletes the sealed identifiers of an erasure.
func (s *Store) DropScrubList(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM erasure_scrub WHERE erasure_id = ?`), id); err != nil {
		return fmt.Errorf("store: delete scrub list: %w", err)
	}
	return nil
}

// PendingScrubs returns erasures in a final state that still hold sealed
// identifiers.
func (s *Store) PendingScrubs(ctx context.Context, limit int) ([]erasure.Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures
		WHERE state IN ('verified', 'rejected', 'blocked', 'failed') AND id IN (SELECT erasure_id FROM erasure_scrub)
		ORDER BY updated_at LIMIT `+strconv.Itoa(limit))
}

// ErasureAuditHash returns the hash of the newest audit entry about an
// erasure, or "" when there is none.
func (s *Store) ErasureAuditHash(ctx context.Context, id string) (string, error) {
	last, err := s.LatestAudit(ctx, "erasure", id)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return last.Hash, err
}
