package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyedMutexSerialisesPerKey(t *testing.T) {
	var k keyedMutex
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			unlock, err := k.Lock(t.Context(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	// Another key is not held up.
	unlock, err := k.Lock(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders at once, want 1", most.Load())
	}
	if len(k.m) != 0 {
		t.Errorf("%d locks left behind", len(k.m))
	}
	// Waiting honours the context.
	unlock, _ = k.Lock(t.Context(), "a")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := k.Lock(ctx, "a"); err == nil {
		t.Error("second lock did not time out")
	}
	unlock()
}

func TestOnceTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	tok := newOnceTokens(time.Minute, 3, func() time.Time { return now })
	a := tok.Issue()
	if o, _ := tok.Claim(t.Context(), a); o != claimFirst {
		t.Fatalf("first claim: %d", o)
	}
	// A concurrent claim waits for the first and sees its outcome.
	got := make(chan string)
	go func() {
		_, res := tok.Claim(context.Background(), a)
		got <- res
	}()
	time.Sleep(5 * time.Millisecond)
	tok.Finish(a, tokenDone, "/done")
	if r := <-got; r != "/done" {
		t.Errorf("waiter saw %q", r)
	}
	if o, r := tok.Claim(t.Context(), a); o != claimDone || r != "/done" {
		t.Errorf("replay: %d %q", o, r)
	}
	// Released tokens can be used again; unknown ones never write again.
	b := tok.Issue()
	tok.Claim(t.Context(), b)
	tok.Finish(b, tokenFresh, "")
	if o, _ := tok.Claim(t.Context(), b); o != claimFirst {
		t.Errorf("released token: %d", o)
	}
	tok.Finish(b, tokenUnknown, "")
	if o, _ := tok.Claim(t.Context(), b); o != claimUnknown {
		t.Errorf("unknown token: %d", o)
	}
	if o, _ := tok.Claim(t.Context(), "forged"); o != claimNone {
		t.Errorf("unknown token: %d", o)
	}
	// Bounded: the oldest go first.
	for range 5 {
		tok.Issue()
	}
	if len(tok.m) > 3 {
		t.Errorf("%d tokens kept, want at most 3", len(tok.m))
	}
	// Expiry.
	c := tok.Issue()
	now = now.Add(2 * time.Minute)
	if o, _ := tok.Claim(t.Context(), c); o != claimNone {
		t.Errorf("expired token: %d", o)
	}
}
