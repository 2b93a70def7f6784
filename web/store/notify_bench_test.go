package store

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/dixacache"
)

// BenchmarkCachedRead measures a profile read served from the cache: held
// in memory only (one process, or the replicas before the write counts),
// and checked against the person's write count on PostgreSQL (several
// replicas: one SELECT by primary key per read). Serial, with 8 readers
// per core at once, and a whole profile's reads in one request (the record
// and the conversations, which share one check).
//
//	go test ./web/store/ -run '^$' -bench CachedRead
func BenchmarkCachedRead(b *testing.B) {
	sim := dixasim.New(dixasim.Options{APIKey: simKey, Users: 5})
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey(simKey))
	if err != nil {
		b.Fatal(err)
	}
	id, _ := sim.AnyUserID(func(apiclient.EndUser) bool { return true })
	url := postgresSchema(b, postgresURL(b))
	s, err := Open(b.Context(), b.TempDir(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	bus := s.CacheBus(url, nil)
	// The person has been written once, as a checked entry usually has.
	if err := bus.Publish(b.Context(), dixacache.Event{Kind: dixacache.KindUser, ID: id}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		bus  dixacache.Bus
	}{{"memory", nil}, {"checked", bus}} {
		r := dixacache.NewReader(api, dixacache.New(dixacache.Options{Bus: c.bus, TTL: time.Hour}))
		profile := func(ctx context.Context) error {
			if _, err := r.GetEndUser(ctx, id); err != nil {
				return err
			}
			_, err := r.ListEndUserConversations(ctx, id, apiclient.PageOptions{})
			return err
		}
		if err := profile(b.Context()); err != nil {
			b.Fatal(err)
		}
		before := len(sim.Requests())
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.GetEndUser(b.Context(), id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"-parallel", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.GetEndUser(b.Context(), id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(c.name+"-profile", func(b *testing.B) {
			for b.Loop() {
				if err := profile(dixacache.WithChecks(b.Context())); err != nil {
					b.Fatal(err)
				}
			}
		})
		if n := len(sim.Requests()) - before; n != 0 {
			b.Errorf("%s: %d reads reached Dixa; the benchmark measures reads from the cache", c.name, n)
		}
	}
}
