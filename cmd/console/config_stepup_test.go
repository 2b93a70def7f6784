package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// STEP_UP_MAX_AGE: 15 minutes by default, a duration from 1m to 24h.
func TestStepUpMaxAgeSetting(t *testing.T) {
	for _, tc := range []struct {
		val  string
		want time.Duration // 0: refused
	}{
		{"", 15 * time.Minute},
		{"5m", 5 * time.Minute},
		{"1h", time.Hour},
		{"30s", 0},
		{"48h", 0},
		{"soon", 0},
	} {
		env := realUpstream("STEP_UP_MAX_AGE", tc.val)
		c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if tc.want == 0 {
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "STEP_UP_MAX_AGE") {
				t.Errorf("%q: got %v, want a usage error naming STEP_UP_MAX_AGE", tc.val, err)
			}
			continue
		}
		if err != nil || c.StepUpMaxAge != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.val, c.StepUpMaxAge, err, tc.want)
		}
	}
}

func TestErasureAlertAfter(t *testing.T) {
	for _, tt := range []struct {
		val  string
		want time.Duration
		ok   bool
	}{
		{"", 24 * time.Hour, true},
		{"2h", 2 * time.Hour, true},
		{"30s", 0, false},
		{"soon", 0, false},
	} {
		c, err := parseConfig(nil, func(k string) string {
			if k == "ERASURE_ALERT_AFTER" {
				return tt.val
			}
			return ""
		}, io.Discard)
		if tt.ok != (err == nil) || (tt.ok && c.ErasureAlertAfter != tt.want) {
			t.Errorf("ERASURE_ALERT_AFTER=%q: got %v, %v; want %v (ok %v)", tt.val, c.ErasureAlertAfter, err, tt.want, tt.ok)
		}
	}
}
