package asff

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// A strict, allocation-free JSON validator used by the fast finding
// decoder. It accepts exactly what encoding/json accepts; it reports only
// that something is wrong, because the slow path re-decodes a failing
// document with encoding/json to name the problem precisely.

// errFast makes the fast decoder hand the document to the slow path.
var errFast = errors.New("fast path declined")

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// skipStrict returns the index just past the valid JSON value at b[i].
func skipStrict(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errFast
	}
	switch c := b[i]; {
	case c == '"':
		return strictStringEnd(b, i)
	case c == '{':
		return skipObjectStrict(b, i, depth+1)
	case c == '[':
		return skipArrayStrict(b, i, depth+1)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return numberEnd(b, i)
	}
	return 0, errFast
}

func skipObjectStrict(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errFast
	}
	return objectStrict(b, i, func(_ []byte, vs int) (int, error) {
		return skipStrict(b, vs, depth)
	})
}

func skipArrayStrict(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errFast
	}
	return arrayStrict(b, i, func(vs int) (int, error) {
		return skipStrict(b, vs, depth)
	})
}

// objectStrict walks the object at b[i], calling fn with each raw key (its
// bytes between the quotes) and the index of its value; fn returns the
// value's end. Returns the index just past the object.
func objectStrict(b []byte, i int, fn func(key []byte, vs int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, errFast
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		ks := i
		ke, err := strictStringEnd(b, ks)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, errFast
		}
		vs := skipSpace(b, i+1)
		if vs >= len(b) {
			return 0, errFast
		}
		if i, err = fn(b[ks+1:ke-1], vs); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errFast
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errFast
		}
		i = skipSpace(b, i+1)
	}
}

// arrayStrict walks the array at b[i], calling fn with the index of each
// element; fn returns the element's end.
func arrayStrict(b []byte, i int, fn func(vs int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errFast
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return 0, errFast
		}
		end, err := fn(i)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, errFast
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errFast
		}
		i = skipSpace(b, i+1)
	}
}

// strictStringEnd returns the index past the valid string starting at b[i]
// (which must be '"'): escapes are checked, raw control characters refused.
func strictStringEnd(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errFast
	}
	i++
	for {
		k := indexStringSpecial(b[i:])
		if k < 0 {
			return 0, errFast
		}
		i += k
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				return 0, errFast
			}
			i += n
		default: // control character
			return 0, errFast
		}
	}
}

// escapeLen returns the length of the valid escape sequence at the start
// of b (which begins with a backslash), or 0.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, c := range b[2:6] {
			if !isHex(c) {
				return 0
			}
		}
		return 6
	}
	return 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// SWAR ("SIMD within a register") constants: one byte per lane.
const (
	swarLSB = 0x0101010101010101
	swarMSB = 0x8080808080808080
)

// swarHas flags (in the high bit of each byte) the bytes of x equal to c;
// the lowest flagged byte is exact.
func swarHas(x uint64, c byte) uint64 {
	y := x ^ (swarLSB * uint64(c))
	return (y - swarLSB) &^ y & swarMSB
}

// indexStringSpecial returns the index of the first '"', '\\' or control
// character (< 0x20) in b, or -1. It tests 8 bytes per step for all three
// at once: on the strings of the real ASFF fixtures (median 11 bytes) that
// has 0.8-3.7x (median 2.0x) the throughput of two bytes.IndexByte calls
// followed by a loop for control characters (BenchmarkIndexString,
// special-*, 24 alternated runs on a shared 2-core VM).
func indexStringSpecial(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// (x - 0x20 per byte) &^ x flags bytes below 0x20; as with swarHas,
		// the lowest flagged byte is exact.
		m := swarHas(x, '"') | swarHas(x, '\\') | ((x - swarLSB*0x20) &^ x & swarMSB)
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return -1
}

// literal checks that b[i:] starts with word.
func literal(b []byte, i int, word string) (int, error) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return 0, errFast
	}
	return i + len(word), nil
}

// numberEnd returns the end of the JSON number at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, errFast
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return 0, errFast
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return 0, errFast
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
