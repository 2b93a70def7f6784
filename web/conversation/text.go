package conversation

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/example/dixa-console/apiclient"
)

// MessagesShown is how many messages a view shows at once: the newest
// ones, with the earlier ones on request.
const MessagesShown = 50

// BodyShown is how many bytes of a message body a view shows before it is
// cut, with the whole body on request.
const BodyShown = 16 << 10

// Window returns where the messages to show start in msgs (oldest first;
// they run to the newest): at the message whose id is since, or
// MessagesShown before the end when since is "". ok is false when no
// message has that id.
func Window(msgs []apiclient.Message, since string) (start int, ok bool) {
	if since == "" {
		return max(0, len(msgs)-MessagesShown), true
	}
	for i, m := range msgs {
		if m.ID == since {
			return i, true
		}
	}
	return 0, false
}

// Earlier returns the id of the message to start from to show
// MessagesShown more before start, "" when start is the first.
func Earlier(msgs []apiclient.Message, start int) string {
	if start <= 0 || start > len(msgs) {
		return ""
	}
	return msgs[max(0, start-MessagesShown)].ID
}

// ValidMessageID reports whether s may be a Dixa message id (as sent back
// in a URL): 1 to 100 letters, digits, dashes and underscores.
func ValidMessageID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Text returns a message body as plain text to show: HTML reduced to its
// text (HTMLText), then Clean.
func Text(c apiclient.Content) string {
	if c.IsHTML() {
		return Clean(HTMLText(c.Value))
	}
	return Clean(c.Value)
}

// Cut returns at most max bytes of s, cut at a line end near the limit when
// there is one and never inside a character, and whether anything was cut.
func Cut(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if nl := strings.LastIndexByte(s[:cut], '\n'); nl > cut*9/10 {
		cut = nl
	}
	return s[:cut], true
}

// overrides are the bidirectional formatting characters that reorder the
// characters after them: "invoice" RLO "fdp.exe" reads as "invoiceexe.pdf".
// They are written as visible marks instead.
var overrides = strings.NewReplacer("\u202D", "[LRO]", "\u202E", "[RLO]")

// Clean makes text safe to show as it is: bidirectional overrides become
// visible marks, control characters other than line breaks and tabs are
// dropped, CR LF becomes LF, and bytes that are not UTF-8 become U+FFFD.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
	return overrides.Replace(s)
}

// skipped are the elements whose content is not text a reader sees.
var skipped = map[string]bool{
	"script": true, "style": true, "title": true, "template": true, "noscript": true,
	"iframe": true, "noembed": true, "noframes": true, "object": true, "head": true,
}

// blocks start and end on a line of their own.
var blocks = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "tr": true, "table": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true,
	"pre": true, "hr": true, "section": true, "article": true, "header": true, "footer": true,
	"dd": true, "dt": true, "dl": true, "form": true, "address": true, "center": true,
}

// HTMLText reduces an HTML document to the text a reader would see: tags
// dropped, entities decoded, white space collapsed as a browser would,
// paragraphs and line breaks kept, quoted blocks prefixed with "> ", list
// items with "• ", link targets written after the link text, images as
// "[image: alt]". Scripts, styles and other non-content are dropped whole.
// The document is parsed as a browser parses it (so markup meant to be
// read differently by a filter and a browser yields the browser's text);
// nothing of the result is markup.
func HTMLText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// Only a failing reader makes Parse fail; show the source as text.
		return s
	}
	w := &textWriter{lineStart: true}
	w.walk(doc)
	return strings.TrimSpace(w.b.String())
}

// walk writes the text of n and its children.
func (w *textWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text([]byte(n.Data))
		return
	case html.ElementNode:
		if skipped[n.Data] {
			return
		}
		w.start(n)
		defer w.end(n.Data)
	case html.DocumentNode:
	default:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// textWriter builds HTMLText's output.
type textWriter struct {
	b         strings.Builder
	lineStart bool   // nothing but the quote prefix written on this line
	space     bool   // a collapsed space is pending
	breaks    int    // line breaks written since the last text
	quote     int    // depth of <blockquote>
	pre       int    // depth of <pre>
	links     []link // the open <a> elements
}

// link is an open <a>: its target and where its text starts.
type link struct {
	href string
	at   int
}

func (w *textWriter) start(n *html.Node) {
	attr := func(k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return strings.TrimSpace(a.Val)
			}
		}
		return ""
	}
	switch tag := n.Data; tag {
	case "br":
		w.newline(1)
	case "img":
		if alt := attr("alt"); alt != "" {
			w.spaced("[image: " + alt + "]")
		} else {
			w.spaced("[image]")
		}
	case "a":
		w.links = append(w.links, link{href: attr("href"), at: w.b.Len()})
	case "blockquote":
		w.newline(2)
		w.quote++
	case "pre":
		w.newline(2)
		w.pre++
	case "li":
		w.newline(1)
		w.raw("•")
		w.space = true
	default:
		if blocks[tag] {
			w.newline(paraBreaks(tag))
		}
	}
}

func (w *textWriter) end(tag string) {
	switch tag {
	case "a":
		if n := len(w.links); n > 0 {
			l := w.links[n-1]
			shown := strings.TrimSpace(w.b.String()[min(l.at, w.b.Len()):])
			if l.href != "" && !strings.HasPrefix(l.href, "#") && shown != l.href && "mailto:"+shown != l.href {
				w.spaced("(" + l.href + ")")
			}
			w.links = w.links[:n-1]
		}
	case "blockquote":
		w.newline(2)
		w.quote = max(0, w.quote-1)
	case "pre":
		w.pre = max(0, w.pre-1)
		w.newline(2)
	default:
		if blocks[tag] {
			w.newline(paraBreaks(tag))
		}
	}
}

// paraBreaks is how many line breaks surround a block: a blank line for
// paragraphs and headings, one break for the rest.
func paraBreaks(tag string) int {
	switch tag {
	case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "hr":
		return 2
	}
	return 1
}

// text writes a text run, white space collapsed outside <pre>.
func (w *textWriter) text(b []byte) {
	if w.pre > 0 {
		for i, line := range bytes.Split(b, []byte("\n")) {
			if i > 0 {
				w.newline(1)
			}
			w.raw(string(line))
		}
		return
	}
	if len(b) > 0 && isSpace(rune(b[0])) {
		w.space = true
	}
	for i, f := range bytes.FieldsFunc(b, isSpace) {
		if i > 0 {
			w.space = true
		}
		w.word(string(f))
	}
	if len(b) > 0 && isSpace(rune(b[len(b)-1])) {
		w.space = true
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' }

// word writes s, after a single space when one is pending on this line.
func (w *textWriter) word(s string) {
	if w.space && !w.lineStart {
		w.b.WriteByte(' ')
	}
	w.raw(s)
}

// spaced writes s as a word of its own, with a space on either side.
func (w *textWriter) spaced(s string) {
	w.space = true
	w.word(s)
	w.space = true
}

// raw writes s as it is, after the quote prefix at the start of a line.
func (w *textWriter) raw(s string) {
	if s == "" {
		return
	}
	if w.lineStart {
		w.b.WriteString(strings.Repeat("> ", w.quote))
	}
	w.b.WriteString(s)
	w.lineStart, w.space, w.breaks = false, false, 0
}

// newline ends the line so that n line breaks (at most two) separate it
// from what comes next; none at the start of the text.
func (w *textWriter) newline(n int) {
	w.space = false
	if w.b.Len() == 0 {
		return
	}
	for ; w.breaks < n; w.breaks++ {
		w.b.WriteByte('\n')
	}
	w.lineStart = true
}
