package web

import (
	"github.com/example/dixa-console/web/role"
	"net/netip"
	"strings"
	"time"
)

// Config is the console's whole configuration, parsed once in cmd/console
// from the environment and flags and passed down.
type Config struct {
	ListenAddr string
	// BasePath is the prefix the console is mounted under: "" for the root,
	// otherwise "/support/console" (leading slash, no trailing slash).
	BasePath string
	// PublicURL is the address people open the console at
	// ("https://console.corp.example"), when known. An https one means the
	// console is served over TLS even where the proxy in front of it does
	// not say so (see ServedOverTLS).
	PublicURL string

	// Upstream.
	DixaAPIURL      string // empty: the embedded simulator
	DixaAPIKey      string
	DixaAPIVersion  string
	UpstreamRPS     float64
	UpstreamBurst   int
	UpstreamTimeout time.Duration
	// ConversationsPageLimit is the page size asked of Dixa for a
	// customer's conversations (zero: 50); a size Dixa refuses falls back
	// to 25, then 10.
	ConversationsPageLimit int
	// DixaAppURL is Dixa's agent interface, e.g. https://acme.dixa.com
	// (https, no trailing slash); each conversation links to
	// <DixaAppURL>/conversation/<id>. "" shows no such links.
	DixaAppURL string
	// UpstreamQueueMax is the longest an interactive request waits for a
	// Dixa request slot before it is answered 503 with Retry-After.
	UpstreamQueueMax time.Duration

	// Sign-in.
	AuthMode           string // dev, header, oidc
	AuthHeaderUser     string
	AuthHeaderName     string
	AuthHeaderGroups   string
	AuthProxySecret    string
	AuthTrustedProxies []netip.Prefix
	AuthJWTHeader      string
	AuthJWKSURL        string
	AuthJWTIssuer      string
	AuthJWTAudience    string
	OIDCIssuer         string
	OIDCClientID       string
	OIDCClientSecret   string
	OIDCRedirectURL    string
	OIDCGroupsClaim    string
	// RoleGroups maps a role (viewer, agent, lead) to the groups that grant it.
	RoleGroups map[role.Role][]string

	// Sessions and the browser.
	SessionKeys    [][]byte
	CookieSameSite string // lax, strict, none
	FrameAncestors string
	TrustedOrigins []string
	// SessionIdle and SessionAbsolute bound a sign-in session (zero: 30
	// minutes idle, 12 hours in all).
	SessionIdle, SessionAbsolute time.Duration
	// PersonRate and PersonBurst are each signed-in person's request budget
	// (zero: 5 a second, bursts of 20).
	PersonRate  float64
	PersonBurst int
	// RoleFreshness is how long groups read at an oidc sign-in are trusted
	// before they are read again from the provider (zero: 5 minutes).
	RoleFreshness time.Duration
	// StepUpMaxAge is how recent a person's sign-in must be to request or
	// approve an erasure (zero: 15 minutes). Header mode without a signed
	// assertion has no sign-in time, and the proxy's schedule applies.
	StepUpMaxAge time.Duration
	// ErasureAlertAfter is how long a submitted erasure may stay unprocessed
	// by Dixa before it counts as overdue in the metrics and the log (zero:
	// 24 hours).
	ErasureAlertAfter time.Duration

	// Storage and policy.
	DataDir            string
	DatabaseURL        string
	ErasureApproval    string // required, single
	PhoneDefaultRegion string
	// ImportRetention is how long a finished import job's results (its
	// rows and their problems) are kept before they are deleted (zero: 30
	// days).
	ImportRetention time.Duration
	// CacheTTL is how long a Dixa read is served to everyone from the
	// shared cache (zero: 15 seconds); StaleMax is how old held data may
	// be when shown, with a notice, because Dixa's budget is spent (zero:
	// 5 minutes).
	CacheTTL, StaleMax time.Duration

	LogFormat string
	LogLevel  string

	// Embedded is true when the console runs its own simulator.
	Embedded bool
}

// ServedOverTLS reports whether the configuration says browsers reach the
// console over HTTPS: an https PublicURL or OIDCRedirectURL. A TLS-
// terminating proxy in front then makes no difference to the cookies
// (Secure, __Host-) and HSTS.
func (c Config) ServedOverTLS() bool {
	return hasHTTPS(c.PublicURL) || hasHTTPS(c.OIDCRedirectURL)
}

func hasHTTPS(u string) bool {
	return len(u) > len("https://") && strings.EqualFold(u[:len("https://")], "https://")
}

// URL joins the base path and an absolute console path ("/endusers").
func (c Config) URL(path string) string { return c.BasePath + path }
