package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/role"
)

// setting is one configuration variable: its environment name, default and
// meaning. Each is also a flag, named like the variable in lower case with
// dashes (LISTEN_ADDR → -listen-addr).
type setting struct {
	env, def, usage string
}

var settings = []setting{
	{"LISTEN_ADDR", "127.0.0.1:8080", "listen address"},
	{"BASE_PATH", "/", "path prefix the console is mounted under"},
	{"PUBLIC_URL", "", "the console's external URL, e.g. https://console.example.com/support/console (https: served over TLS)"},
	{"DIXA_API_URL", "", "upstream base URL (empty: embedded simulator)"},
	{"DIXA_API_KEY", "", "Dixa API token (never logged)"},
	{"DIXA_API_KEY_FILE", "", "file holding the Dixa API token"},
	{"DIXA_API_VERSION", "v1", "upstream path prefix: v1 or beta"},
	{"UPSTREAM_RPS", "10", "requests per second this process may send upstream"},
	{"UPSTREAM_BURST", "4", "burst of upstream requests"},
	{"UPSTREAM_TIMEOUT", "10s", "deadline of one upstream request, and of the wait for the rate limit"},
	{"CONVERSATIONS_PAGE_LIMIT", "50", "conversations asked of Dixa per page (1 to 1000; a size Dixa refuses falls back to 25, then 10)"},
	{"DIXA_APP_URL", "", "Dixa's agent interface, e.g. https://acme.dixa.com: conversations link to it (empty: no links)"},
	{"UPSTREAM_QUEUE_MAX", "2s", "longest a person's request waits for a Dixa request slot; past it the page answers 503 with Retry-After"},
	{"AUTH_MODE", "", "dev, header or oidc (default: dev with the simulator, else required)"},
	{"AUTH_HEADER_USER", "X-Forwarded-Email", "header mode: who the user is"},
	{"AUTH_HEADER_NAME", "X-Forwarded-User", "header mode: display name"},
	{"AUTH_HEADER_GROUPS", "X-Forwarded-Groups", "header mode: comma-separated groups"},
	{"AUTH_PROXY_SECRET", "", "header mode: shared secret expected in X-Proxy-Secret"},
	{"AUTH_TRUSTED_PROXIES", "127.0.0.1/32,::1/128", "header mode: peers whose identity headers are honoured"},
	{"AUTH_JWT_HEADER", "", "header mode: header holding a signed identity assertion"},
	{"AUTH_JWKS_URL", "", "header mode: JWKS that verifies the assertion"},
	{"AUTH_JWT_ISSUER", "", "header mode: expected assertion issuer"},
	{"AUTH_JWT_AUDIENCE", "", "header mode: expected assertion audience"},
	{"OIDC_ISSUER", "", "oidc mode: issuer URL"},
	{"OIDC_CLIENT_ID", "", "oidc mode: client id"},
	{"OIDC_CLIENT_SECRET", "", "oidc mode: client secret"},
	{"OIDC_REDIRECT_URL", "", "oidc mode: redirect URL (…/auth/callback)"},
	{"OIDC_GROUPS_CLAIM", "groups", "oidc mode: claim holding the groups"},
	{"ROLE_GROUPS", "viewer=support-viewers,agent=support-agents,lead=support-leads", "which groups grant which role"},
	{"SESSION_KEYS", "", "comma-separated session keys (hex or base64, ≥32 bytes); first signs"},
	{"COOKIE_SAMESITE", "lax", "lax, strict or none"},
	{"FRAME_ANCESTORS", "'self'", "CSP frame-ancestors"},
	{"TRUSTED_ORIGINS", "", "extra origins allowed to POST"},
	{"DATA_DIR", "./data", "where the embedded SQLite database lives"},
	{"DATABASE_URL", "", "postgres://… for a shared database"},
	{"ERASURE_APPROVAL", "required", "required (four-eyes) or single"},
	{"STEP_UP_MAX_AGE", "15m", "how recent a sign-in must be to request or approve an erasure"},
	{"ERASURE_ALERT_AFTER", "24h", "an erasure Dixa has not processed after this long shows in console_erasures_unprocessed_overdue"},
	{"IMPORT_RETENTION", "720h", "how long finished import jobs' results are kept (1h to 8760h)"},
	{"CACHE_TTL", "15s", "how long a Dixa read is shared from the cache (1s to 5m)"},
	{"STALE_MAX", "5m", "how old cached data may be when shown, with a notice, because Dixa's budget is spent (1s to 1h)"},
	{"PHONE_DEFAULT_REGION", "DK", "region for phone numbers typed without +"},
	{"LOG_FORMAT", "text", "text or json"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
}

// secret names the settings whose values are never shown: help, errors
// and logs say "(set)" at most. DATABASE_URL is one because it may carry
// a password.
var secret = map[string]bool{
	"DIXA_API_KEY":       true,
	"AUTH_PROXY_SECRET":  true,
	"OIDC_CLIENT_SECRET": true,
	"SESSION_KEYS":       true,
	"DATABASE_URL":       true,
}

func flagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

// errUsage marks a configuration error: the process exits with code 2.
var errUsage = errors.New("configuration")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// defineSettings adds a flag to fs for each setting named in envs and
// returns how to read a setting after fs.Parse: the flag when it was
// given, else the environment, else the default.
//
// The flags' defaults are the built-in ones, never values from the
// environment, because the flag package prints defaults in help and on a
// bad flag; help says what the environment sets, a secret as "(set)".
func defineSettings(fs *flag.FlagSet, getenv func(string) string, envs ...string) func(env string) string {
	vals := make(map[string]*string, len(envs))
	for _, env := range envs {
		s := lookupSetting(env)
		vals[env] = fs.String(flagName(env), s.def, s.usage+envNote(env, getenv(env)))
	}
	return func(env string) string {
		v := *vals[env]
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == flagName(env) })
		if e := getenv(env); !given && e != "" {
			v = e
		}
		return strings.TrimSpace(v)
	}
}

func lookupSetting(env string) setting {
	for _, s := range settings {
		if s.env == env {
			return s
		}
	}
	panic("no setting " + env)
}

// envNote tells in help where a setting comes from and, when the
// environment sets it, its value (a secret's only as "(set)").
func envNote(env, val string) string {
	switch {
	case val == "":
		return " ($" + env + ")"
	case secret[env]:
		return " ($" + env + " is (set))"
	default:
		return fmt.Sprintf(" ($%s is %q)", env, val)
	}
}

// parseConfig reads the flags in args (without the program name), falling
// back to the environment and then to the defaults, and validates the lot.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (web.Config, error) {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envs := make([]string, len(settings))
	for i, s := range settings {
		envs[i] = s.env
	}
	get := defineSettings(fs, getenv, envs...)
	if err := fs.Parse(args); err != nil {
		return web.Config{}, usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return web.Config{}, usageErr("unexpected arguments: %q", fs.Args())
	}
	return buildConfig(get)
}

// buildConfig reads and checks every setting through get, collecting all
// the problems rather than stopping at the first.
func buildConfig(get func(string) string) (web.Config, error) {
	var c web.Config
	r := &configReader{get: get}
	r.listen(&c)
	r.upstream(&c)
	r.conversations(&c)
	r.auth(&c)
	r.headerAuth(&c)
	r.oidc(&c)
	r.sessions(&c)
	r.browser(&c)
	r.storage(&c)
	r.policy(&c)
	r.logging(&c)
	if len(r.errs) > 0 {
		return web.Config{}, fmt.Errorf("%w: %w", errUsage, errors.Join(r.errs...))
	}
	return c, nil
}

// configReader reads settings and collects what is wrong with them. Its
// messages name the setting and never repeat a secret's value.
type configReader struct {
	get  func(string) string
	errs []error
}

func (r *configReader) bad(env, format string, a ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
}

// duration reads a duration within [lo, hi].
func (r *configReader) duration(env string, lo, hi time.Duration) time.Duration {
	v, err := time.ParseDuration(r.get(env))
	if err != nil || v < lo || v > hi {
		r.bad(env, "want a duration between %s and %s, got %q", fmtDuration(lo), fmtDuration(hi), r.get(env))
		return 0
	}
	return v
}

// fmtDuration writes whole hours and minutes as 24h and 1m.
func fmtDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func (r *configReader) listen(c *web.Config) {
	c.ListenAddr = r.get("LISTEN_ADDR")
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		r.bad("LISTEN_ADDR", "want host:port, got %q", c.ListenAddr)
	}
	bp := r.get("BASE_PATH")
	switch {
	case bp == "" || bp == "/":
		c.BasePath = ""
	case !strings.HasPrefix(bp, "/") || strings.ContainsAny(bp, "?#\\ \"'<>") || strings.Contains(bp, "//") || strings.Contains(bp, ".."):
		r.bad("BASE_PATH", "want a path like /support/console, got %q", bp)
	default:
		c.BasePath = strings.TrimSuffix(bp, "/")
	}
	c.PublicURL = strings.TrimSuffix(r.get("PUBLIC_URL"), "/")
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			// Not echoed: a URL with user information carries a password.
			r.bad("PUBLIC_URL", "want the console's absolute URL such as https://console.example.com (no user, query or fragment)")
		}
	}
}

func (r *configReader) upstream(c *web.Config) {
	c.DixaAPIURL = strings.TrimSuffix(r.get("DIXA_API_URL"), "/")
	c.Embedded = c.DixaAPIURL == ""
	if !c.Embedded {
		u, err := url.Parse(c.DixaAPIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			r.bad("DIXA_API_URL", "want a base URL like https://dev.dixa.io")
		}
	}
	c.DixaAPIKey = r.get("DIXA_API_KEY")
	if f := r.get("DIXA_API_KEY_FILE"); f != "" {
		if c.DixaAPIKey != "" {
			r.bad("DIXA_API_KEY_FILE", "set either DIXA_API_KEY or DIXA_API_KEY_FILE, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			r.bad("DIXA_API_KEY_FILE", "cannot read the key file %s", f) // never echo its content
		}
		c.DixaAPIKey = strings.TrimSpace(string(b))
	}
	if !c.Embedded && c.DixaAPIKey == "" {
		r.bad("DIXA_API_KEY", "required when DIXA_API_URL is set")
	}
	c.DixaAPIVersion = r.get("DIXA_API_VERSION")
	if c.DixaAPIVersion != "v1" && c.DixaAPIVersion != "beta" {
		r.bad("DIXA_API_VERSION", "want v1 or beta, got %q", c.DixaAPIVersion)
	}
	if v, err := strconv.ParseFloat(r.get("UPSTREAM_RPS"), 64); err != nil || v <= 0 || v > 1000 {
		r.bad("UPSTREAM_RPS", "want a number of requests per second above 0, got %q", r.get("UPSTREAM_RPS"))
	} else {
		c.UpstreamRPS = v
	}
	if v, err := strconv.Atoi(r.get("UPSTREAM_BURST")); err != nil || v < 1 || v > 1000 {
		r.bad("UPSTREAM_BURST", "want a whole number from 1, got %q", r.get("UPSTREAM_BURST"))
	} else {
		c.UpstreamBurst = v
	}
	c.UpstreamTimeout = r.duration("UPSTREAM_TIMEOUT", 100*time.Millisecond, 5*time.Minute)
	c.UpstreamQueueMax = r.duration("UPSTREAM_QUEUE_MAX", 100*time.Millisecond, 5*time.Minute)
}

func (r *configReader) conversations(c *web.Config) {
	if v, err := strconv.Atoi(r.get("CONVERSATIONS_PAGE_LIMIT")); err != nil || v < 1 || v > 1000 {
		r.bad("CONVERSATIONS_PAGE_LIMIT", "want a whole number from 1 to 1000, got %q", r.get("CONVERSATIONS_PAGE_LIMIT"))
	} else {
		c.ConversationsPageLimit = v
	}
	c.DixaAppURL = strings.TrimSuffix(r.get("DIXA_APP_URL"), "/")
	if c.DixaAppURL != "" {
		// Links open in people's browsers: only https, and nothing that
		// could carry a password or be confused with another address.
		u, err := url.Parse(c.DixaAppURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			r.bad("DIXA_APP_URL", "want an https URL such as https://acme.dixa.com (no user, query or fragment)")
			c.DixaAppURL = ""
		}
	}
}

func (r *configReader) auth(c *web.Config) {
	c.AuthMode = r.get("AUTH_MODE")
	if c.AuthMode == "" && c.Embedded {
		c.AuthMode = "dev"
	}
	switch c.AuthMode {
	case "dev":
		if !c.Embedded {
			r.bad("AUTH_MODE", "dev sign-in is only allowed with the embedded simulator; use header or oidc with a real Dixa")
		}
	case "header", "oidc":
	case "":
		r.bad("AUTH_MODE", "required with a real upstream: header or oidc")
	default:
		r.bad("AUTH_MODE", "want dev, header or oidc, got %q", c.AuthMode)
	}
	rg, err := parseRoleGroups(r.get("ROLE_GROUPS"))
	if err != nil {
		r.bad("ROLE_GROUPS", "%v", err)
	}
	c.RoleGroups = rg
}

func (r *configReader) headerAuth(c *web.Config) {
	c.AuthHeaderUser = r.get("AUTH_HEADER_USER")
	c.AuthHeaderName = r.get("AUTH_HEADER_NAME")
	c.AuthHeaderGroups = r.get("AUTH_HEADER_GROUPS")
	c.AuthProxySecret = r.get("AUTH_PROXY_SECRET")
	for p := range strings.SplitSeq(r.get("AUTH_TRUSTED_PROXIES"), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				r.bad("AUTH_TRUSTED_PROXIES", "not an address or CIDR prefix: %q", p)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		c.AuthTrustedProxies = append(c.AuthTrustedProxies, pfx.Masked())
	}
	c.AuthJWTHeader = r.get("AUTH_JWT_HEADER")
	c.AuthJWKSURL = r.get("AUTH_JWKS_URL")
	c.AuthJWTIssuer = r.get("AUTH_JWT_ISSUER")
	c.AuthJWTAudience = r.get("AUTH_JWT_AUDIENCE")
	if c.AuthMode != "header" {
		return
	}
	jwt := c.AuthJWTHeader != "" || c.AuthJWKSURL != ""
	if jwt && (c.AuthJWTHeader == "" || c.AuthJWKSURL == "" || c.AuthJWTIssuer == "" || c.AuthJWTAudience == "") {
		r.bad("AUTH_JWT_HEADER", "a signed assertion needs AUTH_JWT_HEADER, AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE together")
	}
	if !jwt && c.AuthProxySecret == "" {
		r.bad("AUTH_MODE", "header mode needs AUTH_PROXY_SECRET or a signed assertion verifier (AUTH_JWT_HEADER + AUTH_JWKS_URL)")
	}
	if c.AuthProxySecret != "" && len(c.AuthProxySecret) < 16 {
		r.bad("AUTH_PROXY_SECRET", "too short: use at least 16 characters")
	}
	if len(c.AuthTrustedProxies) == 0 {
		r.bad("AUTH_TRUSTED_PROXIES", "header mode needs at least one trusted proxy")
	}
	// Plain identity headers are only as good as the network path: with
	// nothing signed, only a proxy on the same host may reach us.
	if !jwt && !loopbackListen(c.ListenAddr) {
		r.bad("LISTEN_ADDR", "header mode without a signed assertion (AUTH_JWKS_URL) must listen on a loopback address such as 127.0.0.1:8080, got %q", c.ListenAddr)
	}
	if u, err := url.Parse(c.AuthJWKSURL); c.AuthJWKSURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())))) {
		r.bad("AUTH_JWKS_URL", "want an https URL (http only on loopback)")
	}
}

func (r *configReader) oidc(c *web.Config) {
	c.OIDCIssuer = r.get("OIDC_ISSUER")
	c.OIDCClientID = r.get("OIDC_CLIENT_ID")
	c.OIDCClientSecret = r.get("OIDC_CLIENT_SECRET")
	c.OIDCRedirectURL = r.get("OIDC_REDIRECT_URL")
	c.OIDCGroupsClaim = r.get("OIDC_GROUPS_CLAIM")
	if c.AuthMode != "oidc" {
		return
	}
	for _, env := range []string{"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_REDIRECT_URL"} {
		if r.get(env) == "" {
			r.bad(env, "required in oidc mode")
		}
	}
	if u, err := url.Parse(c.OIDCRedirectURL); c.OIDCRedirectURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		r.bad("OIDC_REDIRECT_URL", "want an absolute URL")
	}
}

func (r *configReader) sessions(c *web.Config) {
	for k := range strings.SplitSeq(r.get("SESSION_KEYS"), ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		b, err := decodeKey(k)
		if err != nil {
			r.bad("SESSION_KEYS", "each key must be hex or base64 of at least 32 bytes")
			continue
		}
		c.SessionKeys = append(c.SessionKeys, b)
	}
	if len(c.SessionKeys) == 0 && c.AuthMode != "dev" {
		r.bad("SESSION_KEYS", "required outside dev mode")
	}
}

func (r *configReader) browser(c *web.Config) {
	c.CookieSameSite = strings.ToLower(r.get("COOKIE_SAMESITE"))
	if !slices.Contains([]string{"lax", "strict", "none"}, c.CookieSameSite) {
		r.bad("COOKIE_SAMESITE", "want lax, strict or none, got %q", c.CookieSameSite)
	}
	c.FrameAncestors = r.get("FRAME_ANCESTORS")
	if c.FrameAncestors == "" || strings.ContainsAny(c.FrameAncestors, ";,\r\n") {
		r.bad("FRAME_ANCESTORS", "want a space-separated CSP source list such as 'self' https://intranet.example.com")
	}
	for o := range strings.SplitSeq(r.get("TRUSTED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			r.bad("TRUSTED_ORIGINS", "not an origin (scheme://host[:port]): %q", o)
			continue
		}
		c.TrustedOrigins = append(c.TrustedOrigins, u.Scheme+"://"+u.Host)
	}
}

func (r *configReader) storage(c *web.Config) {
	c.DataDir = r.get("DATA_DIR")
	if c.DataDir == "" {
		r.bad("DATA_DIR", "must not be empty")
	}
	c.DatabaseURL = r.get("DATABASE_URL")
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		r.bad("DATABASE_URL", "want a postgres:// URL")
	}
	c.ImportRetention = r.duration("IMPORT_RETENTION", time.Hour, 365*24*time.Hour)
	c.CacheTTL = r.duration("CACHE_TTL", time.Second, 5*time.Minute)
	c.StaleMax = r.duration("STALE_MAX", time.Second, time.Hour)
}

func (r *configReader) policy(c *web.Config) {
	c.ErasureApproval = r.get("ERASURE_APPROVAL")
	if c.ErasureApproval != "required" && c.ErasureApproval != "single" {
		r.bad("ERASURE_APPROVAL", "want required or single, got %q", c.ErasureApproval)
	}
	c.StepUpMaxAge = r.duration("STEP_UP_MAX_AGE", time.Minute, 24*time.Hour)
	c.ErasureAlertAfter = r.duration("ERASURE_ALERT_AFTER", time.Minute, 30*24*time.Hour)
	c.PhoneDefaultRegion = strings.ToUpper(r.get("PHONE_DEFAULT_REGION"))
	if phonenumbers.GetCountryCodeForRegion(c.PhoneDefaultRegion) == 0 {
		r.bad("PHONE_DEFAULT_REGION", "not a region code like DK or GB: %q", c.PhoneDefaultRegion)
	}
}

func (r *configReader) logging(c *web.Config) {
	c.LogFormat = r.get("LOG_FORMAT")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		r.bad("LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	}
	c.LogLevel = strings.ToLower(r.get("LOG_LEVEL"))
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		r.bad("LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
}

// parseRoleGroups reads "viewer=a,agent=b|c,lead=d": groups of one role
// may be separated by "|"; the same role may also be repeated.
func parseRoleGroups(s string) (map[role.Role][]string, error) {
	m := map[role.Role][]string{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, groups, ok := strings.Cut(part, "=")
		r, known := role.Parse(strings.TrimSpace(name))
		if !ok || !known {
			return nil, fmt.Errorf("want role=group pairs with roles viewer, agent, lead; got %q", part)
		}
		for g := range strings.SplitSeq(groups, "|") {
			if g = strings.TrimSpace(g); g != "" {
				m[r] = append(m[r], g)
			}
		}
	}
	if len(m) == 0 {
		return nil, errors.New("no role is granted by any group")
	}
	return m, nil
}

// loopbackListen reports whether a listen address accepts loopback
// connections only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && loopbackHost(host)
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	return nil, errors.New("bad key")
}
