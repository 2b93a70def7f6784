package importjob

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countStore is a Store that keeps no rows: it shows what parsing and
// validating cost by themselves.
type countStore struct {
	*MemStore
	rows atomic.Int64
}

func (c *countStore) AddRows(_ context.Context, _ string, rows []Row) error {
	c.rows.Add(int64(len(rows)))
	return nil
}

// peakHeap samples the live heap every millisecond until stop is closed.
func peakHeap(stop <-chan struct{}, out *uint64) {
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > *out {
			*out = ms.HeapAlloc
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// BenchmarkPrepare50k parses and validates a 50,000-row file (about 4 MB),
// keeping the rows (MemStore) or not (count), and a 10,000-row file for
// comparison. Peak heap is reported above the heap before the run, with
// the file itself (a string) excluded; without a store what grows with
// the file is only the duplicate index (a map entry per identifier).
//
//	go test -run '^$' -bench Prepare50k -benchtime 3x ./web/importjob/
func BenchmarkPrepare50k(b *testing.B) {
	for _, c := range []struct {
		kind string
		rows int
	}{{"count", 10000}, {"count", 50000}, {"memstore", 50000}} {
		kind, rows := c.kind, c.rows
		file := csvRows("bench", rows)
		b.Run(kind+"-"+strconv.Itoa(rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(file)))
			var peak uint64
			for b.Loop() {
				var st Store = &countStore{MemStore: NewMemStore()}
				if kind == "memstore" {
					st = NewMemStore()
				}
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				stop := make(chan struct{})
				var p uint64
				done := make(chan struct{})
				go func() { peakHeap(stop, &p); close(done) }()
				j, err := Prepare(context.Background(), st, Upload{File: strings.NewReader(file), Mode: ModeCreate, Region: "DK", Limit: 20 << 20})
				close(stop)
				<-done
				if err != nil || j.Total != rows || j.Invalid != 0 {
					b.Fatalf("Prepare: %v, total %d invalid %d", err, j.Total, j.Invalid)
				}
				if p > base.HeapAlloc {
					peak = max(peak, p-base.HeapAlloc)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}
