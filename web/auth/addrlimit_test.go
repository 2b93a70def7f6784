package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// A burst per address, refilled over time; other addresses keep their own
// budget; IPv6 counts per /64.
func TestAddrLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := NewAddrLimiter(1, 5, 100, clk.now)
	a := netip.MustParseAddr("192.0.2.7")
	for i := range 5 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("attempt %d refused inside the burst", i)
		}
	}
	ok, wait := l.Allow(a)
	if ok || wait <= 0 || wait > time.Second {
		t.Errorf("sixth attempt: %v, wait %v; want refused for up to a second", ok, wait)
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.8")); !ok {
		t.Error("another address was limited")
	}
	clk.t = clk.t.Add(time.Second)
	if ok, _ := l.Allow(a); !ok {
		t.Error("budget not refilled after a second")
	}

	v6 := netip.MustParseAddr("2001:db8:1:2::1")
	for range 5 {
		l.Allow(v6)
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:2:ffff::9")); ok {
		t.Error("another address in the same /64 has its own budget")
	}
}

// Memory is bounded: at most max addresses are tracked; refilled buckets
// make room; while none has, new addresses share one bucket.
func TestAddrLimiterBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l := NewAddrLimiter(1, 2, 10, clk.now)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}) }
	for i := range 1000 {
		l.Allow(addr(i))
	}
	if n := l.Len(); n > 10 {
		t.Errorf("%d addresses tracked, want at most 10", n)
	}
	// The shared bucket is spent: a new address waits too.
	l.Allow(addr(2000))
	l.Allow(addr(2001))
	if ok, _ := l.Allow(addr(2002)); ok {
		t.Error("a flood of new addresses is not limited once the table is full")
	}
	clk.t = clk.t.Add(time.Minute) // every bucket refills
	if ok, _ := l.Allow(addr(3000)); !ok || l.Len() != 1 {
		t.Errorf("after the buckets refilled: allowed %v, %d tracked; want a fresh table", ok, l.Len())
	}
}

// The client's address: the peer, or behind trusted proxies the nearest
// untrusted hop of X-Forwarded-For (what a client writes to the left of
// it counts for nothing).
func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct{ remote, xff, want string }{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "198.51.100.9", "192.0.2.1"},             // untrusted peer: its header is ignored
		{"10.0.0.2:5000", "198.51.100.9", "198.51.100.9"},           // the load balancer says who
		{"10.0.0.2:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"},  // the client's own claim is left of it
		{"10.0.0.2:5000", "198.51.100.9, 10.1.1.1", "198.51.100.9"}, // two trusted proxies
		{"10.0.0.2:5000", "garbage, 198.51.100.9", "198.51.100.9"},  // unreadable hops stop the walk
		{"10.0.0.2:5000", "", "10.0.0.2"},                           // no header: the proxy itself
		{"[2001:db8::1]:443", "", "2001:db8::1"},                    // IPv6 peer
		{"10.0.0.2:5000", "[2001:db8::5]:1234", "2001:db8::5"},      // some proxies add the port
	} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientAddr(r, trusted); got.String() != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
