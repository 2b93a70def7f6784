package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// BenchmarkRateBucketReserve measures the shared limiter's own cost: one
// Reserve is one UPDATE … RETURNING round trip to PostgreSQL. (A rate high
// enough that every reservation is granted at once.)
//
//	go test ./web/store/ -run '^$' -bench RateBucketReserve
func BenchmarkRateBucketReserve(b *testing.B) {
	s := openPostgres(b, postgresURL(b))
	bk, err := s.RateBucket(b.Context(), "bench", 1e6, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := bk.Reserve(b.Context(), false, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSharedLimitThroughput measures upstream calls a second through
// the shared limiter with 1, 2 and 3 replicas (clients, each with its own
// connection pool) and 8 callers each, against the simulator with Dixa's
// limit (10/s, burst 4) on. The budget is the company's, so more replicas
// must not mean more calls: the figure stays at ~10/s, with no 429. It
// also reports the limiter's database round trips per call (reservations,
// including slots answered too late to use, and blocks).
//
//	go test ./web/store/ -run '^$' -bench SharedLimitThroughput -benchtime 60x
func BenchmarkSharedLimitThroughput(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			sim, rec, simURL := newSim(b)
			var trips atomic.Int64
			count := func(bk apiclient.Bucket) apiclient.Bucket { return countingBucket{Bucket: bk, trips: &trips} }
			_, clients := replicasWrapped(b, postgresSchema(b, postgresURL(b)), simURL, n, count)
			calls := make(chan struct{}, b.N)
			for range b.N {
				calls <- struct{}{}
			}
			close(calls)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for _, c := range clients {
				for range 8 {
					wg.Go(func() {
						for range calls {
							if _, err := c.ListEndUsers(b.Context(), apiclient.ListOptions{PageLimit: 1}); err != nil {
								b.Error(err)
							}
						}
					})
				}
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "calls/s")
			b.ReportMetric(float64(trips.Load())/float64(b.N), "dbtrips/call")
			b.ReportMetric(float64(sim.Stats().Total.TooManyRequests), "429s")
			b.ReportMetric(float64(rec.maxInSecond()), "max/1s")
		})
	}
}

// countingBucket counts the database round trips of a Bucket.
type countingBucket struct {
	apiclient.Bucket
	trips *atomic.Int64
}

func (c countingBucket) Reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (time.Duration, bool, error) {
	c.trips.Add(1)
	return c.Bucket.Reserve(ctx, idleOnly, maxWait)
}

func (c countingBucket) Block(ctx context.Context, d time.Duration) error {
	c.trips.Add(1)
	return c.Bucket.Block(ctx, d)
}
