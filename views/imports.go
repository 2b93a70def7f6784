package views

import "strings"

// joinComma joins names for a sentence.
func joinComma(s []string) string { return strings.Join(s, ", ") }

// plural writes "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + noun + "s"
}
