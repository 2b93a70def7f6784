package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

// The shared bucket's algorithm on PostgreSQL: the burst goes at once, then
// one slot an interval; a slot beyond maxWait is refused without being
// taken; idle-only callers get a slot only from an idle bucket; a block
// holds every reservation back.
func TestRateBucketGCRA(t *testing.T) {
	s := openPostgres(t, postgresURL(t))
	ctx := t.Context()
	// One slot a second, so that the time the round trips take (a loaded
	// machine) is small beside the interval.
	b, err := s.RateBucket(ctx, "key-1", 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	near := func(d, want time.Duration) bool { return d > want-300*time.Millisecond && d <= want }
	if _, ok, err := b.Reserve(ctx, true, 0); err != nil || !ok {
		t.Fatalf("idle bucket refused an idle-only caller: %v %v", ok, err)
	}
	if _, ok, _ := b.Reserve(ctx, true, 0); ok {
		t.Error("idle-only caller got a slot right after another")
	}
	// One slot taken; the bucket's burst (Dixa's 4 less two of headroom)
	// leaves one more at once.
	for i := range 1 {
		if d, ok, err := b.Reserve(ctx, false, 0); err != nil || !ok || d != 0 {
			t.Fatalf("burst slot %d: wait %v ok %v err %v", i, d, ok, err)
		}
	}
	d, ok, err := b.Reserve(ctx, false, 0)
	if err != nil || ok || !near(d, time.Second) {
		t.Fatalf("slot beyond the burst with maxWait 0: wait %v ok %v err %v; want refused, ~1s", d, ok, err)
	}
	d, ok, err = b.Reserve(ctx, false, 10*time.Second)
	if err != nil || !ok || !near(d, time.Second) {
		t.Fatalf("next slot: wait %v ok %v err %v; want ~1s (the refused call took nothing)", d, ok, err)
	}
	if d, _, _ = b.Reserve(ctx, false, 10*time.Second); !near(d, 2*time.Second) {
		t.Errorf("following slot: wait %v, want ~2s", d)
	}

	b, err = s.RateBucket(ctx, "key-3", 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Block(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	b.Block(ctx, time.Second) // never shortens
	if left, err := b.Blocked(ctx); err != nil || left < 2900*time.Millisecond {
		t.Errorf("Blocked = %v, %v; want ~3s", left, err)
	}
	other, err := s.RateBucket(ctx, "key-3", 10, 4) // another replica's handle on the same row
	if err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := other.Reserve(ctx, false, 10*time.Second); !ok || d < 2900*time.Millisecond {
		t.Errorf("slot during the block: wait %v ok %v; want ≥ 2.9s", d, ok)
	}
	// Another key is another bucket, and the key itself is not stored.
	if d, ok, _ := mustBucket(t, s, "key-2").Reserve(ctx, false, 0); !ok || d != 0 {
		t.Errorf("another key's bucket: wait %v ok %v, want a slot at once", d, ok)
	}
	var n int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM rate_buckets WHERE key_hash LIKE '%key-%'`).Scan(&n)
	if n != 0 {
		t.Error("the API key is stored in clear")
	}
}

func mustBucket(t testing.TB, s *Store, key string) *RateBucket {
	t.Helper()
	b, err := s.RateBucket(t.Context(), key, 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRateBucketNeedsPostgres(t *testing.T) {
	if _, err := openSQLite(t).RateBucket(t.Context(), "k", 10, 4); !errors.Is(err, ErrNoSharedLimit) {
		t.Errorf("RateBucket on SQLite = %v, want ErrNoSharedLimit", err)
	}
}

// arrivals records when each request reached the simulator, and from
// which replica (the X-Replica header, when sent).
type arrivals struct {
	mu   sync.Mutex
	at   []time.Time
	from []string
	h    http.Handler
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.from = append(a.from, r.Header.Get("X-Replica"))
	a.mu.Unlock()
	a.h.ServeHTTP(w, r)
}

// first returns when the first request from replica arrived (false if
// none did).
func (a *arrivals) first(replica string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var first time.Time
	for i, at := range a.at {
		if a.from[i] == replica && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// maxInSecond is the largest number of arrivals within any one second.
func (a *arrivals) maxInSecond() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := append([]time.Time(nil), a.at...)
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= time.Second {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

const simKey = "sim-key-for-the-shared-limit"

// replicas opens n stores on one PostgreSQL schema (n replicas), each with
// a client whose limiter takes its slots from the shared bucket, against
// sim. Replica i has its own connections to sim and tags its requests
// X-Replica: i.
func replicas(t testing.TB, dbURL, simURL string, n int, opts ...apiclient.Option) ([]*Store, []*apiclient.Client) {
	t.Helper()
	return replicasWrapped(t, dbURL, simURL, n, nil, opts...)
}

// replicasWrapped is replicas with each replica's bucket passed through
// wrap (when not nil) before its limiter uses it.
func replicasWrapped(t testing.TB, dbURL, simURL string, n int, wrap func(apiclient.Bucket) apiclient.Bucket, opts ...apiclient.Option) ([]*Store, []*apiclient.Client) {
	t.Helper()
	var stores []*Store
	var clients []*apiclient.Client
	for i := range n {
		s, err := Open(t.Context(), t.TempDir(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		rb, err := s.RateBucket(t.Context(), simKey, 10, 4)
		if err != nil {
			t.Fatal(err)
		}
		var b apiclient.Bucket = rb
		if wrap != nil {
			b = wrap(b)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		t.Cleanup(tr.CloseIdleConnections)
		hc := &http.Client{Transport: replicaTag{n: strconv.Itoa(i), base: tr}}
		c, err := apiclient.New(simURL, append([]apiclient.Option{apiclient.WithAPIKey(simKey), apiclient.WithHTTPClient(hc),
			apiclient.WithLimiter(apiclient.NewSharedLimiter(b)), apiclient.WithTimeout(30 * time.Second)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		stores, clients = append(stores, s), append(clients, c)
	}
	return stores, clients
}

// replicaTag sends every request with X-Replica: n.
type replicaTag struct {
	n    string
	base http.RoundTripper
}

func (r replicaTag) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Replica", r.n)
	return r.base.RoundTrip(req)
}

func newSim(t testing.TB) (*dixasim.Sim, *arrivals, string) {
	sim := dixasim.New(dixasim.Options{APIKey: simKey, Users: 20, RateLimit: 10, Burst: 4})
	rec := &arrivals{h: sim}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return sim, rec, srv.URL
}

// Three replicas sharing one bucket, firing at once, stay within Dixa's
// limit as the simulator counts it: no 429, at most 10 a second plus the
// burst.
func TestSharedLimitThreeReplicas(t *testing.T) {
	sim, rec, simURL := newSim(t)
	_, clients := replicas(t, postgresSchema(t, postgresURL(t)), simURL, 3)
	var wg sync.WaitGroup
	for i := range 45 {
		c := clients[i%3]
		wg.Go(func() {
			if _, err := c.ListEndUsers(t.Context(), apiclient.ListOptions{PageLimit: 1}); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	st := sim.Stats()
	if st.Total.Requests != 45 || st.Total.TooManyRequests != 0 {
		t.Errorf("simulator saw %d requests, %d answered 429; want 45 and 0", st.Total.Requests, st.Total.TooManyRequests)
	}
	if m := rec.maxInSecond(); m > 14 {
		t.Errorf("%d requests arrived within one second, want ≤ 10 + burst 4", m)
	}
}

// Replicas whose clocks disagree by ±2 s share one budget: the bucket is
// timed by the database's clock alone, and only durations pass between it
// and a replica. Three replicas whose own clocks (the store's clock, which
// times everything else a replica records) run 2 s behind, right and 2 s
// ahead fire 15 calls each at once. Measured at the simulator, on one
// reference clock: no 429, at most 10 requests in any second plus the
// burst, and every replica's first request within a second (a replica
// whose clock is behind does not wait out the skew). A 1 s block pushed by
// the replica ahead holds the one behind for 1 s, not 1 s ± the skew.
func TestSharedLimitClockSkew(t *testing.T) {
	skews := []time.Duration{-2 * time.Second, 0, 2 * time.Second}
	sim, rec, simURL := newSim(t)
	stores, clients := replicas(t, postgresSchema(t, postgresURL(t)), simURL, len(skews))
	for i, s := range stores {
		s.now = func() time.Time { return time.Now().Add(skews[i]) }
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 15 * len(skews) {
		c := clients[i%len(skews)]
		wg.Go(func() {
			if _, err := c.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 1}); err != nil {
				t.Errorf("call %d (replica %d): %v", i, i%len(skews), err)
			}
		})
	}
	wg.Wait()
	st := sim.Stats()
	t.Logf("%d requests in %v, %d answered 429, at most %d in one second", st.Total.Requests,
		time.Since(start).Round(time.Millisecond), st.Total.TooManyRequests, rec.maxInSecond())
	if st.Total.TooManyRequests != 0 {
		t.Errorf("the simulator answered %d requests with 429, want 0", st.Total.TooManyRequests)
	}
	if m := rec.maxInSecond(); m > 14 {
		t.Errorf("%d requests arrived within one second, want ≤ 10 + burst 4", m)
	}
	for i, skew := range skews {
		if at, ok := rec.first(strconv.Itoa(i)); !ok || at.Sub(start) > time.Second {
			t.Errorf("replica %d (clock %v): first request after %v, want within 1s", i, skew, at.Sub(start).Round(time.Millisecond))
		}
	}

	ahead, behind := mustBucket(t, stores[2], simKey), mustBucket(t, stores[0], simKey)
	if err := ahead.Block(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	d, ok, err := behind.Reserve(ctx, false, 10*time.Second)
	if err != nil || !ok || d < 500*time.Millisecond || d > time.Second {
		t.Errorf("after a 1s block from the replica 2s ahead, the replica 2s behind waits %v (ok %v, %v); want ~1s", d, ok, err)
	}
}

// With the database gone the limiter fails closed: calls are refused at
// once as rate limited (a 503 with Retry-After for a person) and nothing
// reaches Dixa.
func TestSharedLimitDatabaseGone(t *testing.T) {
	sim, _, simURL := newSim(t)
	stores, clients := replicas(t, postgresSchema(t, postgresURL(t)), simURL, 1)
	stores[0].Close()
	for _, ctx := range []context.Context{t.Context(), apiclient.WithLowPriority(t.Context())} {
		start := time.Now()
		_, err := clients[0].ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 1})
		var e *apiclient.Error
		if !errors.Is(err, apiclient.ErrRateLimited) || !errors.As(err, &e) || e.RetryAfter <= 0 {
			t.Errorf("call with the database gone = %v, want ErrRateLimited with RetryAfter", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refused after %v, want fast", d)
		}
	}
	if n := sim.Stats().Total.Requests; n != 0 {
		t.Errorf("%d requests reached Dixa without a slot", n)
	}
}

// Replicas starting together on an empty database: one migrates, the
// others wait, and all share one erased-identifier key.
func TestConcurrentStartSharesMigrationsAndKey(t *testing.T) {
	dbURL := postgresSchema(t, postgresURL(t))
	keys := make([][]byte, 3)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			s, err := Open(t.Context(), t.TempDir(), dbURL)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
				return
			}
			defer s.Close()
			if v, err := s.SchemaVersion(t.Context()); err != nil || v != latestMigration(t, Postgres) {
				t.Errorf("replica %d: schema version %d, %v", i, v, err)
			}
			keys[i] = s.idKey
		})
	}
	wg.Wait()
	if len(keys[0]) != keyLen || !bytes.Equal(keys[0], keys[1]) || !bytes.Equal(keys[1], keys[2]) {
		t.Error("the replicas hold different erased-identifier keys")
	}
	ro, err := OpenReadOnly(t.Context(), t.TempDir(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !bytes.Equal(ro.idKey, keys[0]) {
		t.Error("a read-only open does not use the shared key")
	}
}

// The database dropping every connection (as in a restart) during a load:
// calls fail as rate limited or succeed, nothing goes to Dixa without a
// slot, no 429, and calls succeed again by themselves afterwards.
func TestSharedLimitDatabaseConnectionsDropped(t *testing.T) {
	base := postgresURL(t)
	u, err := url.Parse(postgresSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	app := "ratelimit-fault-" + strings.TrimPrefix(q.Get("search_path"), "t_")
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	sim, _, simURL := newSim(t)
	_, clients := replicas(t, u.String(), simURL, 1, apiclient.WithQueueMax(2*time.Second))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	var okCalls, refused atomic.Int32
	call := func() {
		_, err := clients[0].ListEndUsers(t.Context(), apiclient.ListOptions{PageLimit: 1})
		switch {
		case err == nil:
			okCalls.Add(1)
		case errors.Is(err, apiclient.ErrRateLimited):
			refused.Add(1)
		default:
			t.Errorf("call: %v", err)
		}
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(call)
		if i == 10 {
			if _, err := admin.ExecContext(t.Context(),
				`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	before := okCalls.Load()
	for range 3 {
		call()
	}
	if okCalls.Load() != before+3 {
		t.Error("calls did not recover after the connections were dropped")
	}
	st := sim.Stats()
	if st.Total.TooManyRequests != 0 || st.Total.Requests != int(okCalls.Load()) {
		t.Errorf("simulator: %d requests, %d 429s; want %d (one per successful call) and 0", st.Total.Requests, st.Total.TooManyRequests, okCalls.Load())
	}
	t.Logf("%d calls served, %d refused as rate limited", okCalls.Load(), refused.Load())
}

// A key file from a single-process start seeds the shared key; a key file
// that differs from the database's key is refused at start.
func TestSharedKeyFromFile(t *testing.T) {
	dbURL := postgresSchema(t, postgresURL(t))
	dir := t.TempDir()
	fileKey, err := loadKey(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), dir, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !bytes.Equal(s.idKey, fileKey) {
		t.Error("the key file did not become the shared key")
	}
	other := t.TempDir()
	if _, err := loadKey(filepath.Join(other, keyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), other, dbURL); !errors.Is(err, ErrKeyFile) {
		t.Errorf("Open with a different key file = %v, want ErrKeyFile", err)
	}
}
