package webtest

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/example/dixa-console/apiclient"

	"github.com/example/dixa-console/web"
)

// NewReplicas starts n consoles as one deployment behind a load balancer:
// one simulator, one database (databaseURL, PostgreSQL), the same session
// key and the same data directory (the identifier key file), each console
// with its own store connection pool, background work and address. They
// stop with the test; Env.Stop stops one earlier. As the server does on
// PostgreSQL, the replicas share one Dixa budget through the database
// (Options.SharedLimit). perReplica, when set, adds client options of
// replica i (e.g. its own limiter instead).
func NewReplicas(t testing.TB, n int, databaseURL string, o Options, perReplica func(i int) []apiclient.Option) []*Env {
	t.Helper()
	o.SharedLimit = true
	sim, simURL := startSim(t, o)
	key := make([]byte, 32)
	rand.Read(key)
	dataDir := t.TempDir()
	shared := func(c *web.Config) {
		c.DatabaseURL = databaseURL
		c.SessionKeys = [][]byte{key}
		c.DataDir = dataDir
	}
	envs := make([]*Env, n)
	for i := range envs {
		ro := o
		// Each replica has its own connections to Dixa, as a process has.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		t.Cleanup(tr.CloseIdleConnections)
		tag := &HeaderTransport{Header: http.Header{ReplicaHeader: {strconv.Itoa(i)}}, Base: tr}
		ro.Client = append(slices.Clone(o.Client), apiclient.WithHTTPClient(&http.Client{Transport: tag}))
		if perReplica != nil {
			ro.Client = append(ro.Client, perReplica(i)...)
		}
		envs[i] = startConsole(t, ro, sim, simURL, shared)
		envs[i].logins.Store(int64(i) * 1_000_000) // Login makes up different people on each replica
	}
	return envs
}

// ReplicaHeader is sent with every upstream request of replica i (its
// index), so that a test tells at the simulator which replica sent what.
const ReplicaHeader = "X-Test-Replica"

// Kill ends this console as a replica ends when its process is killed:
// its database connections go first (nothing more is recorded, its leases
// are not given back and expire), then its background work and server.
func (e *Env) Kill() {
	e.Store.Close()
	e.Stop()
}
