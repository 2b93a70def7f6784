package auth

import (
	"errors"
	"strings"
)

// A person has one canonical identity, Claims.ID, used wherever the
// console asks "is this the same person": the four-eyes rule of erasures,
// the audit log's actor, the per-person request limit and step-up.
//
//   - From a verified token (oidc, or a proxy's signed assertion): the
//     issuer and the subject, written "issuer|subject", e.g.
//     "https://login.corp.example|00u1a2b3c4". The provider never reuses a
//     subject for another person, and an email address may change or be
//     written in another case; the subject does not.
//   - From plain proxy headers, and on the demo sign-in: the email
//     address, trimmed and lower-cased ("Ada@Corp.example " and
//     "ada@corp.example" are one person).
//
// Email and Name are kept beside it for display only.

// Limits on the parts of a canonical identity. A longer subject or issuer
// is refused, never cut: two cut identities could become one.
const (
	MaxSubjectBytes = 255 // OpenID Connect Core: sub is at most 255 ASCII characters
	MaxIssuerBytes  = 512
)

// CanonicalID is the identity of a verified token: "issuer|subject".
func CanonicalID(issuer, subject string) (string, error) {
	switch {
	case subject == "" || issuer == "":
		return "", errors.New("token names nobody (no issuer or subject)")
	case len(subject) > MaxSubjectBytes || CleanText(subject, MaxSubjectBytes) != subject:
		return "", errors.New("token subject is too long or holds control characters")
	case len(issuer) > MaxIssuerBytes || CleanText(issuer, MaxIssuerBytes) != issuer || strings.Contains(issuer, "|"):
		return "", errors.New("token issuer is too long or holds control characters")
	}
	return issuer + "|" + subject, nil
}

// CanonicalEmail is an email address as an identity: trimmed and
// lower-cased. "" when it is empty, longer than MaxIDBytes, or holds
// control characters or invalid UTF-8.
func CanonicalEmail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxIDBytes || CleanText(s, MaxIDBytes) != s {
		return ""
	}
	return strings.ToLower(s)
}
