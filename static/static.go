// Package static holds the console's CSS, JavaScript and vendored htmx,
// embedded in the binary and served under content-hashed names with long
// cache lifetimes. Nothing is ever loaded from another host.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed app.css app.js vendor/htmx-2.0.11.min.js vendor/htmx-LICENSE.txt
var files embed.FS

// Asset names, as passed to Assets.URL.
const (
	CSS  = "app.css"
	JS   = "app.js"
	HTMX = "vendor/htmx-2.0.11.min.js"
)

type asset struct {
	hashed      string // "app.1a2b3c4d5e6f.css"
	contentType string
	body, gz    []byte
}

// Assets serves the embedded files. Build it once with New; it is
// read-only afterwards and safe for concurrent use.
type Assets struct {
	prefix string // "/static/" under the base path
	byName map[string]*asset
	byHash map[string]*asset
}

// New hashes and compresses every embedded file. prefix is where the
// handler is mounted, e.g. "/support/console/static/".
func New(prefix string) (*Assets, error) {
	a := &Assets{prefix: prefix, byName: map[string]*asset{}, byHash: map[string]*asset{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(p)
		hashed := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		as := &asset{hashed: hashed, contentType: ct, body: body, gz: buf.Bytes()}
		a.byName[p] = as
		a.byHash[hashed] = as
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	return a, nil
}

// URL returns the content-hashed URL of an embedded file, for use in
// <link> and <script> tags.
func (a *Assets) URL(name string) string {
	if as, ok := a.byName[name]; ok {
		return a.prefix + as.hashed
	}
	return a.prefix + name
}

// Size reports the transferred size of an asset: gzip-compressed when
// compressed is true. Used to report page weights.
func (a *Assets) Size(name string, compressed bool) int {
	as, ok := a.byName[name]
	if !ok {
		return 0
	}
	if compressed {
		return len(as.gz)
	}
	return len(as.body)
}

// ServeHTTP serves "/{hashed name}" (the prefix already stripped) with an
// immutable cache lifetime, gzip-compressed when the client accepts it.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	as, ok := a.byHash[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", as.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := as.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = as.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

func acceptsGzip(ae string) bool {
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "q" {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
