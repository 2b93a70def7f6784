package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/example/dixa-console/web/role"
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
	{"DIXA_API_URL", "", "upstream base URL (empty: embedded simulator)"},
	{"DIXA_API_KEY", "", "Dixa API token (never logged)"},
	{"DIXA_API_KEY_FILE", "", "file holding the Dixa API token"},
	{"DIXA_API_VERSION", "v1", "upstream path prefix: v1 or beta"},
	{"UPSTREAM_RPS", "10", "requests per second this process may send upstream"},
	{"UPSTREAM_BURST", "4", "burst of upstream requests"},
	{"UPSTREAM_TIMEOUT", "10s", "deadline of one upstream request, and of the wait for the rate limit"},
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
	{"PHONE_DEFAULT_REGION", "DK", "region for phone numbers typed without +"},
	{"LOG_FORMAT", "text", "text or json"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
}

func flagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

// errUsage marks a configuration error: the process exits with code 2.
var errUsage = errors.New("configuration")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// parseConfig reads the flags in args (without the program name), falling
// back to the environment and then to the defaults, and validates the lot.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (web.Config, error) {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		vals[s.env] = fs.String(flagName(s.env), def, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return web.Config{}, usageErr("%v", err)
	}
	if fs.NArg() > 0 {
		return web.Config{}, usageErr("unexpected arguments: %q", fs.Args())
	}
	get := func(env string) string { return strings.TrimSpace(*vals[env]) }
	return buildConfig(get)
}

func buildConfig(get func(string) string) (web.Config, error) {
	var c web.Config
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}

	c.ListenAddr = get("LISTEN_ADDR")
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", "want host:port, got %q", c.ListenAddr)
	}

	bp := get("BASE_PATH")
	switch {
	case bp == "" || bp == "/":
		c.BasePath = ""
	case !strings.HasPrefix(bp, "/") || strings.ContainsAny(bp, "?#\\ \"'<>") || strings.Contains(bp, "//") || strings.Contains(bp, ".."):
		bad("BASE_PATH", "want a path like /support/console, got %q", bp)
	default:
		c.BasePath = strings.TrimSuffix(bp, "/")
	}

	c.DixaAPIURL = strings.TrimSuffix(get("DIXA_API_URL"), "/")
	c.Embedded = c.DixaAPIURL == ""
	if !c.Embedded {
		u, err := url.Parse(c.DixaAPIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			bad("DIXA_API_URL", "want a base URL like https://dev.dixa.io")
		}
	}
	c.DixaAPIKey = get("DIXA_API_KEY")
	if f := get("DIXA_API_KEY_FILE"); f != "" {
		if c.DixaAPIKey != "" {
			bad("DIXA_API_KEY_FILE", "set either DIXA_API_KEY or DIXA_API_KEY_FILE, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			bad("DIXA_API_KEY_FILE", "cannot read the key file %s", f) // never echo its content
		}
		c.DixaAPIKey = strings.TrimSpace(string(b))
	}
	if !c.Embedded && c.DixaAPIKey == "" {
		bad("DIXA_API_KEY", "required when DIXA_API_URL is set")
	}
	c.DixaAPIVersion = get("DIXA_API_VERSION")
	if c.DixaAPIVersion != "v1" && c.DixaAPIVersion != "beta" {
		bad("DIXA_API_VERSION", "want v1 or beta, got %q", c.DixaAPIVersion)
	}
	if v, err := strconv.ParseFloat(get("UPSTREAM_RPS"), 64); err != nil || v <= 0 || v > 1000 {
		bad("UPSTREAM_RPS", "want a number of requests per second above 0, got %q", get("UPSTREAM_RPS"))
	} else {
		c.UpstreamRPS = v
	}
	if v, err := strconv.Atoi(get("UPSTREAM_BURST")); err != nil || v < 1 || v > 1000 {
		bad("UPSTREAM_BURST", "want a whole number from 1, got %q", get("UPSTREAM_BURST"))
	} else {
		c.UpstreamBurst = v
	}
	if v, err := time.ParseDuration(get("UPSTREAM_TIMEOUT")); err != nil || v < 100*time.Millisecond || v > 5*time.Minute {
		bad("UPSTREAM_TIMEOUT", "want a duration between 100ms and 5m, got %q", get("UPSTREAM_TIMEOUT"))
	} else {
		c.UpstreamTimeout = v
	}

	c.AuthMode = get("AUTH_MODE")
	if c.AuthMode == "" && c.Embedded {
		c.AuthMode = "dev"
	}
	switch c.AuthMode {
	case "dev":
		if !c.Embedded {
			bad("AUTH_MODE", "dev sign-in is only allowed with the embedded simulator; use header or oidc with a real Dixa")
		}
	case "header", "oidc":
	case "":
		bad("AUTH_MODE", "required with a real upstream: header or oidc")
	default:
		bad("AUTH_MODE", "want dev, header or oidc, got %q", c.AuthMode)
	}
	c.AuthHeaderUser = get("AUTH_HEADER_USER")
	c.AuthHeaderName = get("AUTH_HEADER_NAME")
	c.AuthHeaderGroups = get("AUTH_HEADER_GROUPS")
	c.AuthProxySecret = get("AUTH_PROXY_SECRET")
	for p := range strings.SplitSeq(get("AUTH_TRUSTED_PROXIES"), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			if a, aerr := netip.ParseAddr(p); aerr == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			} else {
				bad("AUTH_TRUSTED_PROXIES", "not an address or CIDR prefix: %q", p)
				continue
			}
		}
		c.AuthTrustedProxies = append(c.AuthTrustedProxies, pfx.Masked())
	}
	c.AuthJWTHeader = get("AUTH_JWT_HEADER")
	c.AuthJWKSURL = get("AUTH_JWKS_URL")
	c.AuthJWTIssuer = get("AUTH_JWT_ISSUER")
	c.AuthJWTAudience = get("AUTH_JWT_AUDIENCE")
	if c.AuthMode == "header" {
		jwt := c.AuthJWTHeader != "" || c.AuthJWKSURL != ""
		if jwt && (c.AuthJWTHeader == "" || c.AuthJWKSURL == "" || c.AuthJWTIssuer == "" || c.AuthJWTAudience == "") {
			bad("AUTH_JWT_HEADER", "a signed assertion needs AUTH_JWT_HEADER, AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE together")
		}
		if !jwt && c.AuthProxySecret == "" {
			bad("AUTH_MODE", "header mode needs AUTH_PROXY_SECRET or a signed assertion verifier (AUTH_JWT_HEADER + AUTH_JWKS_URL)")
		}
		if c.AuthProxySecret != "" && len(c.AuthProxySecret) < 16 {
			bad("AUTH_PROXY_SECRET", "too short: use at least 16 characters")
		}
		if len(c.AuthTrustedProxies) == 0 {
			bad("AUTH_TRUSTED_PROXIES", "header mode needs at least one trusted proxy")
		}
		// Plain identity headers are only as good as the network path: with
		// nothing signed, only a proxy on the same host may reach us.
		if !jwt && !loopbackListen(c.ListenAddr) {
			bad("LISTEN_ADDR", "header mode without a signed assertion (AUTH_JWKS_URL) must listen on a loopback address such as 127.0.0.1:8080, got %q", c.ListenAddr)
		}
		if u, err := url.Parse(c.AuthJWKSURL); c.AuthJWKSURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())))) {
			bad("AUTH_JWKS_URL", "want an https URL (http only on loopback)")
		}
	}
	c.OIDCIssuer = get("OIDC_ISSUER")
	c.OIDCClientID = get("OIDC_CLIENT_ID")
	c.OIDCClientSecret = get("OIDC_CLIENT_SECRET")
	c.OIDCRedirectURL = get("OIDC_REDIRECT_URL")
	c.OIDCGroupsClaim = get("OIDC_GROUPS_CLAIM")
	if c.AuthMode == "oidc" {
		for _, env := range []string{"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_REDIRECT_URL"} {
			if get(env) == "" {
				bad(env, "required in oidc mode")
			}
		}
		if u, err := url.Parse(c.OIDCRedirectURL); c.OIDCRedirectURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
			bad("OIDC_REDIRECT_URL", "want an absolute URL")
		}
	}

	rg, err := parseRoleGroups(get("ROLE_GROUPS"))
	if err != nil {
		bad("ROLE_GROUPS", "%v", err)
	}
	c.RoleGroups = rg

	for k := range strings.SplitSeq(get("SESSION_KEYS"), ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		b, err := decodeKey(k)
		if err != nil {
			bad("SESSION_KEYS", "each key must be hex or base64 of at least 32 bytes")
			continue
		}
		c.SessionKeys = append(c.SessionKeys, b)
	}
	if len(c.SessionKeys) == 0 && c.AuthMode != "dev" {
		bad("SESSION_KEYS", "required outside dev mode")
	}

	c.CookieSameSite = strings.ToLower(get("COOKIE_SAMESITE"))
	if !slices.Contains([]string{"lax", "strict", "none"}, c.CookieSameSite) {
		bad("COOKIE_SAMESITE", "want lax, strict or none, got %q", c.CookieSameSite)
	}
	c.FrameAncestors = get("FRAME_ANCESTORS")
	if c.FrameAncestors == "" || strings.ContainsAny(c.FrameAncestors, ";,\r\n") {
		bad("FRAME_ANCESTORS", "want a space-separated CSP source list such as 'self' https://intranet.example.com")
	}
	for o := range strings.SplitSeq(get("TRUSTED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			bad("TRUSTED_ORIGINS", "not an origin (scheme://host[:port]): %q", o)
			continue
		}
		c.TrustedOrigins = append(c.TrustedOrigins, u.Scheme+"://"+u.Host)
	}

	c.DataDir = get("DATA_DIR")
	if c.DataDir == "" {
		bad("DATA_DIR", "must not be empty")
	}
	c.DatabaseURL = get("DATABASE_URL")
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL", "want a postgres:// URL")
	}
	c.ErasureApproval = get("ERASURE_APPROVAL")
	if c.ErasureApproval != "required" && c.ErasureApproval != "single" {
		bad("ERASURE_APPROVAL", "want required or single, got %q", c.ErasureApproval)
	}
	if v, err := time.ParseDuration(get("STEP_UP_MAX_AGE")); err != nil || v < time.Minute || v > 24*time.Hour {
		bad("STEP_UP_MAX_AGE", "want a duration between 1m and 24h, got %q", get("STEP_UP_MAX_AGE"))
	} else {
		c.StepUpMaxAge = v
	}
	if v, err := time.ParseDuration(get("ERASURE_ALERT_AFTER")); err != nil || v < time.Minute || v > 30*24*time.Hour {
		bad("ERASURE_ALERT_AFTER", "want a duration between 1m and 720h, got %q", get("ERASURE_ALERT_AFTER"))
	} else {
		c.ErasureAlertAfter = v
	}
	c.PhoneDefaultRegion = strings.ToUpper(get("PHONE_DEFAULT_REGION"))
	if phonenumbers.GetCountryCodeForRegion(c.PhoneDefaultRegion) == 0 {
		bad("PHONE_DEFAULT_REGION", "not a region code like DK or GB: %q", c.PhoneDefaultRegion)
	}
	c.LogFormat = get("LOG_FORMAT")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	}
	c.LogLevel = strings.ToLower(get("LOG_LEVEL"))
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}

	if len(errs) > 0 {
		return web.Config{}, fmt.Errorf("%w: %w", errUsage, errors.Join(errs...))
	}
	return c, nil
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
