package conversation_test

import (
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/conversation"
)

func TestHTMLText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraphs", "<p>Hi,</p><p>the parcel\n   is   late.</p>", "Hi,\n\nthe parcel is late."},
		{"line breaks", "one<br>two<br/>three", "one\ntwo\nthree"},
		{"inline tags join", "<b>Hel</b>lo <i>world</i>", "Hello world"},
		{"entities", "Tom &amp; Jerry &lt;3 &#x202E;", "Tom & Jerry <3 \u202E"},
		{"script and style dropped", "<style>body{display:none}</style>a<script>alert(1)</script>b", "ab"},
		{"head dropped", "<html><head><title>T</title><meta http-equiv=refresh content=0></head><body>x</body></html>", "x"},
		{"link target written", `<a href="javascript:alert(1)">log in</a>`, "log in (javascript:alert(1))"},
		{"link same as text", `<a href="https://x.example/">https://x.example/</a>`, "https://x.example/"},
		{"mailto same as text", `<a href="mailto:a@b.example">a@b.example</a>`, "a@b.example"},
		{"image", `<p>see<img src=x onerror="alert(1)"> <img alt="logo" src=y></p>`, "see [image] [image: logo]"},
		{"quote", "<p>Thanks</p><blockquote>old line<br>second</blockquote>", "Thanks\n\n> old line\n> second"},
		{"list", "<ul><li>one</li><li>two</li></ul>", "• one\n• two"},
		{"pre keeps spaces", "<pre>a   b\n  c</pre>", "a   b\n  c"},
		{"iframe and srcdoc", `<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>ok`, "ok"},
		{"form text kept", `<form action="https://evil.example"><button>Confirm</button></form>`, "Confirm"},
		{"parsed as a browser does", `<table>fostered<tr><td>cell</td></tr></table>`, "fostered\n\ncell"},
		{"no tags survive", `<svg><script>alert('svg')</script></svg><p style="font-size:0">hidden</p>`, "hidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := conversation.HTMLText(tc.in); got != tc.want {
				t.Errorf("HTMLText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTextIsInert(t *testing.T) {
	in := apiclient.Content{Type: apiclient.ContentHTML, Value: `<p dir="rtl">Invoice: invoice` + "\u202E" + `fdp.exe</p><script>x</script>` + "\x00\x1b[31m"}
	got := conversation.Text(in)
	if want := "Invoice: invoice[RLO]fdp.exe\n\n[31m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	plain := conversation.Text(apiclient.Content{Type: apiclient.ContentText, Value: "<b>not bold</b>\r\nline\u202Dx"})
	if want := "<b>not bold</b>\nline[LRO]x"; plain != want {
		t.Errorf("plain text: got %q, want %q (markup in plain text stays as typed)", plain, want)
	}
}

func TestCut(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	got, cut := conversation.Cut(s, 5)
	if !cut || got != "éé" {
		t.Errorf("Cut inside a character: got %q %v", got, cut)
	}
	lines := strings.Repeat("x", 95) + "\n" + strings.Repeat("y", 20)
	if got, _ := conversation.Cut(lines, 100); got != strings.Repeat("x", 95) {
		t.Errorf("Cut near a line end: got %q", got)
	}
	if got, cut := conversation.Cut("short", 100); cut || got != "short" {
		t.Errorf("short text: got %q %v", got, cut)
	}
}

func TestWindow(t *testing.T) {
	msgs := make([]apiclient.Message, 120)
	for i := range msgs {
		msgs[i].ID = "m" + itoa(i)
	}
	start, ok := conversation.Window(msgs, "")
	if !ok || start != 70 {
		t.Errorf("newest: from %d %v, want 70", start, ok)
	}
	if e := conversation.Earlier(msgs, start); e != "m20" {
		t.Errorf("earlier than 70: %q, want m20", e)
	}
	if start, ok = conversation.Window(msgs, "m20"); !ok || start != 20 {
		t.Errorf("since m20: from %d %v", start, ok)
	}
	if e := conversation.Earlier(msgs, 20); e != "m0" {
		t.Errorf("earlier than 20: %q, want m0", e)
	}
	if e := conversation.Earlier(msgs, 0); e != "" {
		t.Errorf("earlier than the first: %q, want none", e)
	}
	if _, ok := conversation.Window(msgs, "nope"); ok {
		t.Error("an unknown message id was found")
	}
	if start, _ := conversation.Window(msgs[:3], ""); start != 0 {
		t.Errorf("a short conversation starts at %d", start)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func TestParseID(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "9223372036854775807": true, "0": false, "-1": false, "+1": false, " 1": false,
		"9223372036854775808": false, "1e3": false, "": false, "0x10": false, "١": false,
	} {
		if _, ok := conversation.ParseID(s); ok != want {
			t.Errorf("ParseID(%q) ok=%v, want %v", s, ok, want)
		}
	}
	for s, want := range map[string]bool{"3f6c-aa_1": true, "": false, "a/b": false, "<x>": false, strings.Repeat("a", 101): false} {
		if ok := conversation.ValidMessageID(s); ok != want {
			t.Errorf("ValidMessageID(%q)=%v, want %v", s, ok, want)
		}
	}
}
