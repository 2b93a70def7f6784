package webtest

import "net/url"

func encodeForm(form map[string][]string) string { return url.Values(form).Encode() }
