package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunServesTheListFromTheEmbeddedSimulator is the README's promise: with
// no configuration the console starts in front of the simulator and serves
// the customer list.
func TestRunServesTheListFromTheEmbeddedSimulator(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &stdout, &stderr) }()

	var base string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		if _, rest, ok := strings.Cut(stdout.String(), "listening on "); ok {
			base = strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0])
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no listening line; stdout=%q stderr=%q", stdout.String(), stderr.String())
	}

	resp, err := http.Get(base + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: got %d, want 200", resp.StatusCode)
	}

	// The healthcheck sub-command, as the container uses it.
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	if err := run(t.Context(), []string{"healthcheck"}, func(k string) string {
		if k == "LISTEN_ADDR" {
			return addr
		}
		return ""
	}, io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after shutdown, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
}

func TestRunRefusesBadConfigurationWithUsageError(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"url without key", map[string]string{"DIXA_API_URL": "https://dev.dixa.io", "AUTH_MODE": "header", "AUTH_PROXY_SECRET": "0123456789abcdef0123", "SESSION_KEYS": strings.Repeat("ab", 32)}, "DIXA_API_KEY"},
		{"dev sign-in with a real upstream", map[string]string{"DIXA_API_URL": "https://dev.dixa.io", "DIXA_API_KEY": "k", "AUTH_MODE": "dev"}, "dev sign-in"},
		{"bad listen address", map[string]string{"LISTEN_ADDR": "nonsense"}, "LISTEN_ADDR"},
		{"bad rps", map[string]string{"UPSTREAM_RPS": "-1"}, "UPSTREAM_RPS"},
		{"bad version", map[string]string{"DIXA_API_VERSION": "v2"}, "DIXA_API_VERSION"},
		{"bad base path", map[string]string{"BASE_PATH": "no-slash"}, "BASE_PATH"},
		{"bad region", map[string]string{"PHONE_DEFAULT_REGION": "XX"}, "PHONE_DEFAULT_REGION"},
		{"header mode without secret or verifier", map[string]string{"DIXA_API_URL": "https://dev.dixa.io", "DIXA_API_KEY": "k", "AUTH_MODE": "header", "SESSION_KEYS": strings.Repeat("ab", 32)}, "AUTH_PROXY_SECRET"},
		{"short session key", map[string]string{"DIXA_API_URL": "https://dev.dixa.io", "DIXA_API_KEY": "k", "AUTH_MODE": "header", "AUTH_PROXY_SECRET": "0123456789abcdef0123", "SESSION_KEYS": "abcd"}, "SESSION_KEYS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), nil, func(k string) string { return tt.env[k] }, io.Discard, &stderr)
			if !errors.Is(err, errUsage) {
				t.Fatalf("got %v, want a usage error (exit code 2)", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if tt.env["DIXA_API_KEY"] != "" && strings.Contains(err.Error(), "DIXA_API_KEY=") {
				t.Errorf("error echoes the key setting: %q", err)
			}
		})
	}
}

// A key file shorter than a key stops start-up (and verify) with a
// message naming it and exit code 2, instead of recursing until the stack
// overflows.
func TestShortKeyFileIsAConfigurationError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "erasure-hmac.key")
	if err := os.WriteFile(path, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": dir}[k] }
	for _, args := range [][]string{nil, {"verify"}} {
		done := make(chan error, 1)
		go func() { done <- run(t.Context(), args, env, io.Discard, io.Discard) }()
		select {
		case err := <-done:
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), path) {
				t.Errorf("%q: got %v, want a usage error (exit code 2) naming %s", args, err, path)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%q: still running after 20s", args)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "too short" {
		t.Errorf("the key file was changed to %q", got)
	}
}
