package asff

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// This file holds the in-memory walker used to look inside container
// documents (EventBridge envelopes, GetFindings responses, arrays) without
// decoding the findings twice: it locates member and element byte ranges,
// checking the container's own punctuation strictly, and leaves validation
// of each finding to the finding decoder.

// walkError is a problem found at byte Pos of the walked document.
type walkError struct {
	Pos    int
	Reason string
	Cause  error // nil means ErrSyntax
}

func (e *walkError) Error() string { return e.Reason }

func countLines(b []byte) int { return bytes.Count(b, []byte{'\n'}) }

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimRightSpace returns the length of b without trailing whitespace.
func trimRightSpace(b []byte) int {
	n := len(b)
	for n > 0 && isSpace(b[n-1]) {
		n--
	}
	return n
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in b, or
// -1 if there is none. Two bytes.IndexByte calls do as well as the
// hand-written SWAR loop this replaced on the strings of the real ASFF
// fixtures (BenchmarkIndexString, quote-*: SWAR had 0.47-1.9x the
// throughput of IndexByte, median 1.0x, over 24 alternated runs on a
// shared 2-core VM), so the standard library does it.
func indexQuoteOrBackslash(b []byte) int {
	q := bytes.IndexByte(b, '"')
	if q < 0 {
		q = len(b)
	}
	if k := bytes.IndexByte(b[:q], '\\'); k >= 0 {
		return k
	}
	if q == len(b) {
		return -1
	}
	return q
}

// stringEnd returns the index just past the closing quote of the string
// whose opening quote is at b[i], or -1 if it is not closed.
func stringEnd(b []byte, i int) int {
	i++
	for {
		k := indexQuoteOrBackslash(b[i:])
		if k < 0 {
			return -1
		}
		i += k
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // a backslash and the byte it escapes
		if i > len(b) {
			return -1
		}
	}
}

// valueEnd returns the index just past the JSON value starting at b[i],
// tracking strings and bracket depth but not validating the content.
func valueEnd(b []byte, i int) (int, error) {
	switch b[i] {
	case '"':
		if e := stringEnd(b, i); e >= 0 {
			return e, nil
		}
		return 0, &walkError{Pos: i, Reason: "unterminated string"}
	case '{', '[':
		return compositeEnd(b, i)
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	if j == i {
		return 0, &walkError{Pos: i, Reason: fmt.Sprintf("invalid character %s looking for beginning of value", quoteChar(b[i]))}
	}
	return j, nil
}

// compositeEnd returns the index just past the object or array at b[i].
func compositeEnd(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			e := stringEnd(b, j)
			if e < 0 {
				return 0, &walkError{Pos: j, Reason: "unterminated string"}
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, &walkError{Pos: i, Reason: "unexpected end of JSON input: value is never closed"}
}

// validValue returns the end of the value at b[i] after checking it is valid
// JSON; used for the container fields we do not otherwise decode. Only a
// failure pays for encoding/json, which words the problem.
func validValue(b []byte, i int) (int, error) {
	if end, err := skipStrict(b, i, 0); err == nil {
		return end, nil
	}
	end, err := valueEnd(b, i)
	if err != nil {
		return 0, err
	}
	var se *stdjson.SyntaxError
	if err := stdjson.Unmarshal(b[i:end], new(stdjson.RawMessage)); errors.As(err, &se) {
		return 0, &walkError{Pos: i + int(se.Offset) - 1, Reason: se.Error()}
	}
	return 0, &walkError{Pos: i, Reason: "invalid JSON value"}
}

// members walks the object at b[i], calling fn with each key (raw, without
// quotes) and the byte range of its value. fn returns the value's end when it
// consumed the value itself, or -1 to have it skipped (and validated when
// strict). Returns the index just past the object.
func members(b []byte, i int, strict bool, fn func(key []byte, vs int) (int, error)) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, unexpected(b, i, "looking for beginning of object key string")
		}
		ke := stringEnd(b, i)
		if ke < 0 {
			return 0, &walkError{Pos: i, Reason: "unterminated string"}
		}
		key := b[i+1 : ke-1]
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, unexpected(b, i, "after object key")
		}
		vs := skipSpace(b, i+1)
		if vs >= len(b) {
			return 0, unexpected(b, vs, "looking for beginning of value")
		}
		ve, err := fn(key, vs)
		if err == nil && ve < 0 {
			if strict {
				ve, err = validValue(b, vs)
			} else {
				ve, err = valueEnd(b, vs)
			}
		}
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, ve)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return i + 1, nil
		default:
			return 0, unexpected(b, i, "after object key:value pair")
		}
	}
}

// elements walks the array at b[i], calling fn with the index of each
// element; fn returns the element's end. Returns the index past the array.
func elements(b []byte, i int, fn func(vs int) (int, error)) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return 0, unexpected(b, i, "looking for beginning of value")
		}
		ve, err := fn(i)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, ve)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return i + 1, nil
		default:
			return 0, unexpected(b, i, "after array element")
		}
	}
}

// unexpected describes the byte at b[i] (or the end of input) in the words of
// encoding/json's scanner.
func unexpected(b []byte, i int, context string) error {
	if i >= len(b) {
		return &walkError{Pos: len(b), Reason: "unexpected end of JSON input"}
	}
	return &walkError{Pos: i, Reason: fmt.Sprintf("invalid character %s %s", quoteChar(b[i]), context)}
}

// quoteChar formats c like encoding/json does in its error messages.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}
