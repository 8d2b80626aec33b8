package asff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The scanner splits a byte stream into top-level JSON documents without
// parsing them: it tracks only strings, escapes and bracket depth, so it runs
// at close to memory speed. Each element of a top-level array is a document
// of its own, which keeps memory bounded for a huge array. Anything between
// documents that is not whitespace is skipped up to the next '{' or '[' and
// reported once.
//
// Resynchronisation: a line that begins with '{' or '[' in column 0 where
// the document in progress cannot go on (a raw newline inside a string, or
// after anything but ':', ',' or '[') starts a new document, and the
// unfinished one is handed on as cut (its decoding reports the problem).
// Where the document could go on (a pretty-printer that does not indent),
// the line is remembered, and if the document turns out never to close
// properly scanning resumes there. So a damaged line costs one document,
// not the rest of the stream.

const (
	readChunk          = 256 << 10
	defaultMaxDocument = 64 << 20
)

// scanItem is one document (doc, owned by the receiver) or one problem.
type scanItem struct {
	doc []byte
	pos position
	err *DecodeError
	// cut marks a document that a new document interrupted: decoding it
	// must report an error.
	cut bool
}

// array states of the scanner inside a top-level array.
const (
	arrNone  = iota // not in an array
	arrFirst        // after '[': element or ']'
	arrValue        // after ',': element expected
	arrComma        // after an element: ',' or ']'
)

type scanner struct {
	r    io.Reader
	name string
	max  int

	buf    []byte
	base   int64 // input offset of buf[0]
	pos    int   // next unread byte in buf
	line   int   // line number of buf[lineAt]
	lineAt int
	eof    bool
	rerr   error

	arr     int       // array state
	arrOpen position  // where the open top-level array started
	arrLax  bool      // a missing ',' was reported: the array may be unclosed
	seenDoc bool      // some document was seen (for error wording)
	pending *scanItem // item to return before scanning on

	// beforeRead, when set, runs before each blocking read; an error from
	// it ends the scan as a read error would.
	beforeRead func() error

	// document in progress
	depth  int
	inStr  bool
	esc    bool
	docBeg int // buf index where the current document starts
	// restart is the buf index of the first column-0 '{' or '[' inside
	// the document where it could still go on, or -1.
	restart int
	// noRestartBefore is the input offset up to which no restart is
	// recorded: after resuming at a restart, the bytes up to where the cut
	// was found are scanned a second time, and a second rewind there could
	// make scanning quadratic.
	noRestartBefore int64
	// peek asks for one more byte after s.pos before scanning on.
	peek bool
}

// scanDoc outcomes.
const (
	docMore   = iota // the buffer ended inside the document
	docClosed        // the closing bracket was reached
	docCut           // a new document begins at s.pos before this one closed
)

func newScanner(r io.Reader, name string, maxDoc int) *scanner {
	if maxDoc <= 0 {
		maxDoc = defaultMaxDocument
	}
	return &scanner{r: r, name: name, max: maxDoc, buf: make([]byte, 0, readChunk), line: 1, restart: -1}
}

// next returns the next document or problem. It returns io.EOF after the
// last one, or the reader's error.
func (s *scanner) next() (scanItem, error) {
	if p := s.pending; p != nil {
		s.pending = nil
		return *p, nil
	}
	for {
		if !s.fill(s.pos, s.pos) {
			return s.finish()
		}
		c := s.buf[s.pos]
		switch {
		case isSpace(c):
			s.pos++
		case c == 0xEF && s.base+int64(s.pos) == 0 && bytes.HasPrefix(s.buf, []byte("\xEF\xBB\xBF")):
			s.pos += 3 // UTF-8 byte order mark
		case s.arr != arrNone && (c == ',' || c == ']'):
			if it, ok := s.arrayPunct(c); ok {
				return it, nil
			}
		case c == '[' && s.arr == arrNone:
			s.arr, s.arrOpen = arrFirst, s.posAt(s.pos)
			s.pos++
		case c == '{' || c == '[':
			return s.document()
		default:
			return s.garbage(), nil
		}
	}
}

// finish reports an unclosed top-level array, then the end of input.
func (s *scanner) finish() (scanItem, error) {
	if s.rerr != nil {
		return scanItem{}, s.rerr
	}
	if s.arr != arrNone {
		s.arr = arrNone
		if !s.arrLax {
			return scanItem{err: s.arrOpen.errorf(ErrSyntax, "unexpected end of input: array opened here is never closed")}, nil
		}
	}
	return scanItem{}, io.EOF
}

// arrayPunct handles ',' and ']' inside a top-level array, returning a
// problem item when the punctuation is out of place.
func (s *scanner) arrayPunct(c byte) (scanItem, bool) {
	at := s.pos
	s.pos++
	switch {
	case c == ',' && s.arr == arrComma:
		s.arr = arrValue
	case c == ']' && s.arr != arrValue:
		s.arr = arrNone
	case c == ']':
		s.arr = arrNone
		return s.problem(at, "invalid character ']' after ',' in array (trailing comma)"), true
	default:
		return s.problem(at, "invalid character ',' looking for beginning of value (empty array element)"), true
	}
	return scanItem{}, false
}

// document scans the object or array starting at s.pos and returns it (or
// the problem with it).
func (s *scanner) document() (scanItem, error) {
	var missingComma *scanItem
	if s.arr == arrComma && !s.arrLax {
		it := s.problem(s.pos, "invalid character "+quoteChar(s.buf[s.pos])+" after array element (missing ',')")
		missingComma = &it
		// Further elements without commas are not reported again: the
		// usual cause is an array left open before newline-delimited
		// documents.
		s.arrLax = true
	}
	if s.arr != arrNone {
		s.arr = arrComma
	}
	s.seenDoc = true
	start := s.posAt(s.pos)
	s.docBeg, s.depth, s.inStr, s.esc = s.pos, 0, false, false
	it, err := s.scanDocument(start)
	if err != nil || missingComma == nil {
		return it, err
	}
	s.pending = &it
	return *missingComma, nil
}

// scanDocument runs scanDoc to the end of the document, reading as needed.
func (s *scanner) scanDocument(start position) (scanItem, error) {
	skipped := false
	s.restart = -1
	for {
		switch s.scanDoc() {
		case docClosed:
			s.restart = -1
			if skipped || s.pos-s.docBeg > s.max {
				return scanItem{err: start.errorf(ErrTooLarge, "document is larger than the %d byte limit; skipped", s.max)}, nil
			}
			return scanItem{doc: bytes.Clone(s.buf[s.docBeg:s.pos]), pos: start}, nil
		case docCut:
			return s.cutDocument(start, s.pos, skipped), nil
		}
		if s.pos-s.docBeg > s.max {
			if s.restart >= 0 {
				return s.cutDocument(start, s.pos, true), nil
			}
			skipped, s.docBeg = true, s.pos // drop what we have, keep tracking depth
		}
		need := s.pos
		if s.peek {
			need++
		}
		if !s.fill(s.docBeg, need) {
			if s.rerr != nil {
				return scanItem{}, s.rerr
			}
			if s.restart >= 0 {
				return s.cutDocument(start, len(s.buf), skipped), nil
			}
			return scanItem{err: start.errorf(ErrSyntax, "unexpected end of input: value opened here is never closed")}, nil
		}
	}
}

// cutDocument ends the document in progress at buf index at, where a new
// document begins (at the earliest place where one could), and resumes
// scanning there.
func (s *scanner) cutDocument(start position, at int, tooLarge bool) scanItem {
	if s.restart >= 0 && s.restart < at {
		s.noRestartBefore = s.base + int64(at)
		at = s.restart
	}
	s.restart, s.pos, s.inStr, s.esc, s.peek = -1, at, false, false, false
	if s.arr != arrNone {
		s.arr = arrValue // the array's punctuation is lost with the cut element
	}
	if tooLarge {
		return scanItem{err: start.errorf(ErrTooLarge, "document is larger than the %d byte limit and never closed; skipped", s.max)}
	}
	doc := s.buf[s.docBeg:at]
	return scanItem{doc: bytes.Clone(doc[:trimRightSpace(doc)]), pos: start, cut: true}
}

// scanDoc advances s.pos through the document in progress and reports
// whether its closing bracket was reached, a new document cut it short, or
// more input is needed.
func (s *scanner) scanDoc() int {
	b, i := s.buf, s.pos
	s.peek = false
	for i < len(b) {
		if s.inStr {
			if s.esc {
				s.esc = false
				i++
				continue
			}
			k := indexStringSpecial(b[i:])
			if k < 0 { // the string goes on past the buffer
				i = len(b)
				break
			}
			i += k
			switch b[i] {
			case '"':
				s.inStr = false
			case '\\':
				s.esc = true
			case '\n': // invalid inside a string: a cut line if a document follows
				if i+1 >= len(b) {
					s.pos, s.peek = i, true
					return docMore
				}
				if b[i+1] == '{' || b[i+1] == '[' {
					s.pos = i + 1
					return docCut
				}
			}
			i++
			continue
		}
		switch b[i] {
		case '"':
			s.inStr = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth == 0 {
				s.pos = i + 1
				return docClosed
			}
		case '\n':
			if i+1 >= len(b) {
				s.pos, s.peek = i, true
				return docMore
			}
			if c := b[i+1]; c == '{' || c == '[' {
				if !s.mayContinue(i) {
					s.pos = i + 1
					return docCut
				}
				if s.restart < 0 && s.base+int64(i+1) >= s.noRestartBefore {
					s.restart = i + 1
				}
			}
		}
		i++
	}
	s.pos = i
	return docMore
}

// mayContinue reports whether a value may follow the document's last
// significant byte before buf index i: only after ':', ',' or '['.
func (s *scanner) mayContinue(i int) bool {
	for j := i - 1; j >= s.docBeg; j-- {
		switch c := s.buf[j]; {
		case isSpace(c):
		case c == ':' || c == ',' || c == '[':
			return true
		default:
			return false
		}
	}
	return false
}

// garbage skips bytes that cannot start a document, up to the next '{' or
// '[' (or ',' / ']' inside an array), skipping over strings, and returns one
// problem item for the whole run.
func (s *scanner) garbage() scanItem {
	at := s.posAt(s.pos)
	first := s.buf[s.pos]
	n, inStr, esc := int64(0), false, false
	for s.fill(s.pos, s.pos) {
		c := s.buf[s.pos]
		if !inStr && (c == '{' || c == '[' || (s.arr != arrNone && (c == ',' || c == ']'))) {
			break
		}
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case c == '\n': // strings do not span lines
			inStr = false
		}
		s.pos++
		n++
	}
	until := "up to the next '{' or '['"
	if s.pos >= len(s.buf) {
		until = "to the end of input"
	}
	context := "looking for beginning of value"
	switch {
	case s.arr != arrNone:
		context, until = "looking for beginning of array element", "up to the next ',' or ']'"
		s.arr = arrComma
	case s.seenDoc:
		context = "after top-level value"
	}
	return scanItem{err: at.errorf(ErrSyntax, "invalid character %s %s (skipped %d bytes %s)", quoteChar(first), context, n, until)}
}

// problem returns an item reporting reason at buf index i.
func (s *scanner) problem(i int, reason string) scanItem {
	return scanItem{err: s.posAt(i).errorf(ErrSyntax, "%s", reason)}
}

// posAt returns the input position of buf index i.
func (s *scanner) posAt(i int) position {
	return position{file: s.name, line: s.lineOf(i), offset: s.base + int64(i)}
}

// lineOf returns the line number of buf index i.
func (s *scanner) lineOf(i int) int {
	if i >= s.lineAt {
		s.line += countLines(s.buf[s.lineAt:i])
		s.lineAt = i
		return s.line
	}
	return s.line - countLines(s.buf[i:s.lineAt])
}

// fill makes sure buf[i] exists, reading more input if needed while keeping
// buf[keep:]. It reports false at the end of input or on a read error.
func (s *scanner) fill(keep, i int) bool {
	for i >= len(s.buf) {
		if s.eof {
			return false
		}
		s.compact(keep)
		i -= keep
		keep = 0
		if cap(s.buf)-len(s.buf) < readChunk/2 {
			grown := make([]byte, len(s.buf), 2*cap(s.buf)+readChunk)
			copy(grown, s.buf)
			s.buf = grown
		}
		if s.beforeRead != nil {
			if err := s.beforeRead(); err != nil {
				s.eof, s.rerr = true, err
				return false
			}
		}
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.rerr = fmt.Errorf("read %s: %w", s.name, err)
			}
		}
	}
	return true
}

// compact drops buf[:keep], shifting every buffer index.
func (s *scanner) compact(keep int) {
	if keep == 0 {
		return
	}
	s.lineOf(keep)
	n := copy(s.buf, s.buf[keep:])
	s.buf = s.buf[:n]
	s.base += int64(keep)
	s.pos -= keep
	s.docBeg -= keep
	s.lineAt -= keep
	if s.restart >= 0 {
		s.restart -= keep
	}
}
