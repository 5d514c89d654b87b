package sqlserver

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// collation is how a SQL Server collation decides that two strings are
// equal, as far as a unique key cares. Its name says it: CI/CS case,
// AI/AS accents, KS kana and WS width (insensitive unless named), BIN and
// BIN2 compare code points. Every collation ignores trailing spaces.
type collation struct {
	name              string
	binary            bool
	caseInsensitive   bool
	accentInsensitive bool
	kanaInsensitive   bool
	widthInsensitive  bool
}

func parseCollation(name string) collation {
	c := collation{name: name, kanaInsensitive: true, widthInsensitive: true}
	for _, token := range strings.Split(strings.ToUpper(name), "_") {
		switch token {
		case "BIN", "BIN2":
			c.binary = true
		case "CI":
			c.caseInsensitive = true
		case "AI":
			c.accentInsensitive = true
		case "KS":
			c.kanaInsensitive = false
		case "WS":
			c.widthInsensitive = false
		}
	}
	if c.binary {
		c.caseInsensitive, c.accentInsensitive, c.kanaInsensitive, c.widthInsensitive = false, false, false, false
	}
	return c
}

// key is s in the form under which strings equal in this collation are
// identical. It folds the way SQL Server's tables usually do; rare
// expansions (ß = ss) and ignorable characters are not modelled.
func (c collation) key(s string) string {
	s = strings.TrimRight(s, " ")
	if c.binary {
		return s
	}
	// Canonically equivalent forms (é and e + U+0301) compare equal.
	s = norm.NFC.String(s)
	if c.widthInsensitive {
		s = width.Fold.String(s)
	}
	if c.accentInsensitive {
		s = stripAccents(s)
	}
	if c.caseInsensitive || c.kanaInsensitive {
		s = strings.Map(func(r rune) rune {
			if c.caseInsensitive {
				r = unicode.ToLower(unicode.ToUpper(r))
			}
			if c.kanaInsensitive && r >= 0x30A1 && r <= 0x30F6 {
				r -= 0x60 // katakana to the same hiragana
			}
			return r
		}, s)
	}
	return s
}

// stripAccents drops combining marks after canonical decomposition:
// "É" -> "E".
func stripAccents(s string) string {
	decomposed := norm.NFD.String(s)
	stripped := strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, decomposed)
	return norm.NFC.String(stripped)
}
