package webtest

import (
	"crypto/rand"
	"testing"

	"github.com/example/dixa-console/web"
)

// NewReplicas starts n consoles as one deployment behind a load balancer:
// one simulator, one database (databaseURL, PostgreSQL), the same session
// key and the same data directory (the identifier key file), each console
// with its own store connection pool, background work and address. They
// stop with the test; Env.Stop stops one earlier.
func NewReplicas(t testing.TB, n int, databaseURL string, o Options) []*Env {
	t.Helper()
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
		envs[i] = startConsole(t, o, sim, simURL, shared)
	}
	return envs
}
