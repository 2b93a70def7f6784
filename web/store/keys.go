package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// The key that identifies erased people's identifiers (HMAC) and seals
// them until they are scrubbed: a file in the data directory for one
// process, a row of shared_keys on PostgreSQL for every replica.

// loadKey reads the key, creating it (mode 0600) when absent.
func loadKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, keyLen)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return awaitKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(key); err != nil {
		return nil, fmt.Errorf("store: write key: %w", err)
	}
	return key, nil
}

// awaitKey reads a key file another process has just created, giving it
// a moment to finish writing; a file still short after that is refused.
func awaitKey(path string) ([]byte, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		key, err := readKey(path)
		if !errors.Is(err, ErrKeyFile) || time.Now().After(deadline) {
			return key, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readKey reads an existing key file. One shorter than a key is refused
// with ErrKeyFile; its content is never shown.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("store: read key: %w", err)
	}
	if len(b) < keyLen {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want %d: restore it from a backup (delete it only if no erasure was ever recorded: a new key cannot match the identifiers kept under the old one)",
			ErrKeyFile, path, len(b), keyLen)
	}
	return b[:keyLen], nil
}

// idKeyName names the erased-identifier key in shared_keys.
const idKeyName = "erasure-hmac"

// sharedKey returns the erased-identifier key kept in the database, making
// it on first use: every replica inserts its candidate with ON CONFLICT DO
// NOTHING and reads back the one that won. A key file left in the data
// directory by a single-process start is the candidate, so a console moved
// onto PostgreSQL keeps its key; one that differs from the database's key
// is refused, as identifiers keyed with it would no longer match.
func (s *Store) sharedKey(ctx context.Context, path string) ([]byte, error) {
	candidate, err := readKey(path)
	fromFile := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if !fromFile {
		candidate = make([]byte, keyLen)
		rand.Read(candidate)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO shared_keys (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, idKeyName, candidate); err != nil {
		return nil, fmt.Errorf("store: store shared key: %w", err)
	}
	var key []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM shared_keys WHERE name = $1`, idKeyName).Scan(&key); err != nil {
		return nil, fmt.Errorf("store: read shared key: %w", err)
	}
	if len(key) != keyLen {
		return nil, fmt.Errorf("%w: the database holds a key of %d bytes, want %d", ErrKeyFile, len(key), keyLen)
	}
	if fromFile && !hmac.Equal(key, candidate) {
		return nil, fmt.Errorf("%w: %s differs from the key in the database: remove it only if no erasure was recorded with it", ErrKeyFile, path)
	}
	return key, nil
}
