package typemap

import (
	"encoding/binary"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// appendUTF16LE appends s as UTF-16LE, byte for byte what go-mssqldb's
// bulk copy sends for the Go string of s (its str2ucs2, which is
// utf16.Encode([]rune(s))): each byte of invalid UTF-8 becomes U+FFFD, as
// []rune does, and characters beyond the BMP become surrogate pairs.
func appendUTF16LE(dst, s []byte) []byte {
	// No character takes more than twice its UTF-8 length: ASCII and
	// invalid bytes take two bytes each, two- and three-byte characters
	// two, four-byte characters four.
	dst = slices.Grow(dst, 2*len(s))
	for i := 0; i < len(s); {
		// Eight ASCII bytes at a time: most text is ASCII.
		if i+8 <= len(s) {
			if w := binary.LittleEndian.Uint64(s[i:]); w&0x8080808080808080 == 0 {
				dst = binary.LittleEndian.AppendUint64(dst, widen(w&0xffffffff))
				dst = binary.LittleEndian.AppendUint64(dst, widen(w>>32))
				i += 8
				continue
			}
		}
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, c, 0)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		var units [2]uint16
		for _, u := range utf16.AppendRune(units[:0], r) {
			dst = append(dst, byte(u), byte(u>>8))
		}
	}
	return dst
}

// widen spreads the four low bytes of x to the even bytes of the result,
// a zero byte after each: four ASCII characters as UTF-16LE.
func widen(x uint64) uint64 {
	x = (x | x<<16) & 0x0000ffff0000ffff
	return (x | x<<8) & 0x00ff00ff00ff00ff
}
