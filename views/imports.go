package views

import "strings"

// joinComma joins names for a sentence.
func joinComma(s []string) string { return strings.Join(s, ", ") }

// ModeLabel names an import mode for people.
func ModeLabel(m string) string {
	switch m {
	case "create":
		return "Create"
	case "update":
		return "Update"
	}
	return m
}

// plural writes "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + noun + "s"
}
