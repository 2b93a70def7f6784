package web

import (
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/writeguard"
)

// writeGuard is the write handlers' guard: on PostgreSQL its form tokens
// and per-customer locks are in the database, shared by every replica;
// otherwise (one process) they are in memory.
func (s *Server) writeGuard() *writeguard.Guard {
	if s.store != nil && s.store.Dialect() == store.Postgres {
		return writeguard.NewShared(s.store.Guard())
	}
	return writeguard.New()
}
