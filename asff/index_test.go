package asff

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"hubtriage/internal/fixtures"
)

// confusing returns random inputs built from the bytes most likely to
// confuse a search for '"', '\\' and control characters: the targets, their
// neighbours, 0x00, 0x1F, 0x20, 0x80 and 0xFF.
func confusing(r *rand.Rand) []byte {
	alphabet := []byte{'"', '\\', '!', '#', '[', ']', 0x00, 0x1F, 0x20, 0x80, 0xFF, 0xA2, 0xDC, 'a'}
	b := make([]byte, r.IntN(40))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// TestIndexQuoteOrBackslash compares the search with bytes.IndexAny.
func TestIndexQuoteOrBackslash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		b := confusing(r)
		if got, want := indexQuoteOrBackslash(b), bytes.IndexAny(b, "\"\\"); got != want {
			t.Fatalf("indexQuoteOrBackslash(%q) = %d, want %d", b, got, want)
		}
	}
}

// TestIndexStringSpecial compares the SWAR search with the obvious loop.
func TestIndexStringSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		b := confusing(r)
		want := -1
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 {
				want = i
				break
			}
		}
		if got := indexStringSpecial(b); got != want {
			t.Fatalf("indexStringSpecial(%q) = %d, want %d", b, got, want)
		}
	}
}

// The contenders the benchmark measures against the functions in use: a
// SWAR search for '"' and '\\' (what indexQuoteOrBackslash was), and
// bytes.IndexByte followed by a loop for control characters.

func indexQuoteOrBackslashSWAR(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := swarHas(x, '"') | swarHas(x, '\\'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return -1
}

func indexStringSpecialIndexByte(b []byte) int {
	k := indexQuoteOrBackslash(b)
	n := k
	if n < 0 {
		n = len(b)
	}
	for i, c := range b[:n] {
		if c < 0x20 {
			return i
		}
	}
	return k
}

// indexContenders are the search functions BenchmarkIndexString compares.
var indexContenders = []struct {
	name      string
	fn, match func([]byte) int
}{
	{"quote-indexbyte", indexQuoteOrBackslash, indexQuoteOrBackslash},
	{"quote-swar", indexQuoteOrBackslashSWAR, indexQuoteOrBackslash},
	{"special-swar", indexStringSpecial, indexStringSpecial},
	{"special-indexbyte", indexStringSpecialIndexByte, indexStringSpecial},
}

// fixtureStrings returns every real fixture document and the offsets just
// past the opening quote of each of its strings (keys and values).
func fixtureStrings(tb testing.TB) (docs [][]byte, starts [][]int) {
	fx := fixtures.Dir(tb)
	for _, dir := range []string{"arrays", "events", "getfindings", "findings"} {
		paths, _ := filepath.Glob(filepath.Join(fx, dir, "*.json"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			var s []int
			for i := 0; ; {
				q := bytes.IndexByte(b[i:], '"')
				if q < 0 {
					break
				}
				s = append(s, i+q+1)
				if i = stringEnd(b, i+q); i < 0 {
					tb.Fatalf("%s: unterminated string at byte %d", p, q)
				}
			}
			docs, starts = append(docs, b), append(starts, s)
		}
	}
	if len(docs) == 0 {
		tb.Fatal("no fixtures found")
	}
	return docs, starts
}

// TestIndexContendersAgree checks that each benchmarked contender answers
// as the function in use does on every string of the real fixtures, so the
// benchmark compares equal work.
func TestIndexContendersAgree(t *testing.T) {
	docs, starts := fixtureStrings(t)
	for _, c := range indexContenders {
		for d, doc := range docs {
			for _, s := range starts[d] {
				if got, want := c.fn(doc[s:]), c.match(doc[s:]); got != want {
					t.Fatalf("%s at byte %d = %d, want %d", c.name, s, got, want)
				}
			}
		}
	}
}

// BenchmarkIndexString runs each search over every string (key and value)
// of the real ASFF fixtures, as stringEnd does: search, step over an
// escape, search again, up to the closing quote. Run the contenders
// alternately and compare Mstrings/s; the results are in the comments of
// indexQuoteOrBackslash and indexStringSpecial.
func BenchmarkIndexString(b *testing.B) {
	docs, starts := fixtureStrings(b)
	var total int64
	var n int
	for d, doc := range docs {
		for _, s := range starts[d] {
			total += int64(stringEnd(doc, s-1) - s)
			n++
		}
	}
	for _, c := range indexContenders {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				for d, doc := range docs {
					for _, s := range starts[d] {
						for i := s; ; i += 2 { // step over an escape
							i += c.fn(doc[i:])
							if doc[i] == '"' {
								break
							}
						}
					}
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds()/1e6, "Mstrings/s")
		})
	}
}
