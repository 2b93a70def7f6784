package auth

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default budget of sign-in attempts per client address (GET and POST
// /login, the oidc callback): a burst for an office of people behind one
// address signing in at nine, then one a second. A loop replaying a
// callback gets a few dozen tries, not thousands.
const (
	DefaultSignInRate  = 1.0
	DefaultSignInBurst = 30
	// DefaultMaxAddrs bounds the addresses tracked at once.
	DefaultMaxAddrs = 10000
)

// AddrLimiter is a token bucket per client address for requests made
// before anyone is signed in. IPv6 addresses count per /64, the block one
// client usually holds. Memory is bounded: with MaxAddrs tracked, buckets
// that have refilled (and so know nothing) are dropped, and if none has,
// new addresses share one bucket until some do.
type AddrLimiter struct {
	rate  rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu       sync.Mutex
	buckets  map[netip.Prefix]*rate.Limiter
	overflow *rate.Limiter
}

// NewAddrLimiter returns a limiter of perSecond attempts with burst per
// address, tracking at most maxAddrs; zero values take the defaults, a
// nil now is time.Now.
func NewAddrLimiter(perSecond float64, burst, maxAddrs int, now func() time.Time) *AddrLimiter {
	if perSecond <= 0 {
		perSecond = DefaultSignInRate
	}
	if burst <= 0 {
		burst = DefaultSignInBurst
	}
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxAddrs
	}
	if now == nil {
		now = time.Now
	}
	return &AddrLimiter{
		rate: rate.Limit(perSecond), burst: burst, max: maxAddrs, now: now,
		buckets:  map[netip.Prefix]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Limit(perSecond), burst),
	}
}

// addrKey is the address an attempt counts against: the IPv4 address, or
// the /64 of an IPv6 one. An invalid address is the zero prefix.
func addrKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return netip.Prefix{}
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// Allow takes one attempt from a's budget; when there is none it returns
// false and how long until there is.
func (l *AddrLimiter) Allow(a netip.Addr) (bool, time.Duration) {
	now := l.now()
	key := addrKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.dropFullLocked(now)
		}
		if len(l.buckets) < l.max {
			b = rate.NewLimiter(l.rate, l.burst)
			l.buckets[key] = b
		} else {
			b = l.overflow
		}
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// dropFullLocked forgets the buckets that have refilled: a full bucket
// is the same as none.
func (l *AddrLimiter) dropFullLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

// Len is the number of addresses tracked (tests).
func (l *AddrLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// ClientAddr is the browser's address: the connection's peer, or, when
// the peer is a trusted proxy, the nearest address in X-Forwarded-For
// that is not one. Proxies append the address they saw, so only the right
// end of the list is vouched for; anything left of the first untrusted
// address may be made up by the client.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !inPrefixes(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break
		}
		addr = a
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return addr
}

// parseAddr reads "host:port" or a bare address; the zero Addr if neither.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
