// Package suggest finds the name a user most likely meant: "did you mean"
// for commands, subcommands and service names.
package suggest

import "strings"

// Closest returns the candidate nearest to name, if one is near enough to
// be what was meant: within an edit distance of 1 for short names, 2 for
// longer ones (a swap of two letters counts once), or a candidate that
// name is the start of. "" when none is.
func Closest(name string, candidates []string) string {
	best, bestDist := "", -1
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	for _, c := range candidates {
		if c == name || c == "" {
			continue
		}
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if len(name) >= 3 && strings.HasPrefix(c, name) {
			d = min(d, 1)
		}
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, each 1.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
