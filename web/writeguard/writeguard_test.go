package writeguard

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// In a synctest bubble, synctest.Wait returns once every goroutine is
// blocked on the lock's channel: what is then seen holding the lock is
// all that can hold it, not what a lucky schedule happened to show.
func TestKeyedMutexSerialisesPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var k keyedMutex
		var inside atomic.Int32
		release := make(chan struct{})
		const n = 5
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				unlock, err := k.Lock(t.Context(), "a")
				if err != nil {
					t.Error(err)
					return
				}
				inside.Add(1)
				<-release
				inside.Add(-1)
				unlock()
			})
		}
		for i := range n {
			synctest.Wait() // all n-i holders-to-be are blocked: on the lock, or on release
			if got := inside.Load(); got != 1 {
				t.Fatalf("round %d: %d holders of key a at once, want 1", i, got)
			}
			// Another key is not held up (were it, the bubble would deadlock
			// and synctest fail the test).
			unlock, err := k.Lock(t.Context(), "b")
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			release <- struct{}{}
		}
		wg.Wait()
		if len(k.m) != 0 {
			t.Errorf("%d locks left behind", len(k.m))
		}

		// Waiting honours the context (10 ms of the bubble's fake clock).
		unlock, _ := k.Lock(t.Context(), "a")
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := k.Lock(ctx, "a"); err == nil {
			t.Error("second lock did not time out")
		}
		unlock()
		if len(k.m) != 0 {
			t.Errorf("%d locks left behind after a timed-out wait", len(k.m))
		}
	})
}

func TestOnceTokensConcurrentClaimWaitsForTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tok := newOnceTokens(time.Minute, 3, time.Now)
		a := tok.Issue()
		if o, _ := tok.Claim(t.Context(), a); o != ClaimFirst {
			t.Fatalf("first claim: %d", o)
		}
		type claim struct {
			o   Claim
			res string
		}
		got := make(chan claim, 1)
		go func() {
			o, res := tok.Claim(context.Background(), a)
			got <- claim{o, res}
		}()
		synctest.Wait() // the second claim is blocked, waiting for the first
		select {
		case c := <-got:
			t.Fatalf("the second claim returned (%d %q) while the first was running", c.o, c.res)
		default:
		}
		tok.Finish(a, TokenDone, "/done")
		if c := <-got; c.o != ClaimDone || c.res != "/done" {
			t.Errorf("the waiter saw %d %q, want ClaimDone /done", c.o, c.res)
		}

		// A waiter whose request goes away stops waiting.
		b := tok.Issue()
		tok.Claim(t.Context(), b)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			o, res := tok.Claim(ctx, b)
			got <- claim{o, res}
		}()
		synctest.Wait()
		cancel()
		if c := <-got; c.o != ClaimNone {
			t.Errorf("cancelled waiter: %d, want ClaimNone", c.o)
		}
	})
}

func TestOnceTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	tok := newOnceTokens(time.Minute, 3, func() time.Time { return now })
	a := tok.Issue()
	if o, _ := tok.Claim(t.Context(), a); o != ClaimFirst {
		t.Fatalf("first claim: %d", o)
	}
	tok.Finish(a, TokenDone, "/done")
	if o, r := tok.Claim(t.Context(), a); o != ClaimDone || r != "/done" {
		t.Errorf("replay: %d %q", o, r)
	}
	// Released tokens can be used again; unknown ones never write again.
	b := tok.Issue()
	tok.Claim(t.Context(), b)
	tok.Finish(b, TokenFresh, "")
	if o, _ := tok.Claim(t.Context(), b); o != ClaimFirst {
		t.Errorf("released token: %d", o)
	}
	tok.Finish(b, TokenUnknown, "")
	if o, _ := tok.Claim(t.Context(), b); o != ClaimUnknown {
		t.Errorf("unknown token: %d", o)
	}
	if o, _ := tok.Claim(t.Context(), "forged"); o != ClaimNone {
		t.Errorf("forged token: %d", o)
	}
	if o, _ := tok.Claim(t.Context(), ""); o != ClaimNone {
		t.Errorf("no token: %d", o)
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
	if o, _ := tok.Claim(t.Context(), c); o != ClaimNone {
		t.Errorf("expired token: %d", o)
	}
}

// The guard hands its methods to the lock and the tokens.
func TestGuard(t *testing.T) {
	g := New()
	tok := g.Issue()
	if o, _ := g.Claim(t.Context(), tok); o != ClaimFirst {
		t.Fatalf("claim: %d", o)
	}
	g.Finish(tok, TokenDone, "/x")
	if o, r := g.Claim(t.Context(), tok); o != ClaimDone || r != "/x" {
		t.Errorf("replay: %d %q", o, r)
	}
	unlock, err := g.Lock(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}
