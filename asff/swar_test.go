package asff

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestIndexQuoteOrBackslash compares the SWAR search with the obvious loop
// on random inputs built from the bytes most likely to confuse it (the two
// targets, their neighbours, 0x00, 0x80 and 0xFF).
func TestIndexQuoteOrBackslash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'"', '\\', '!', '#', '[', ']', 0x00, 0x80, 0xFF, 0xA2, 0xDC, 'a'}
	for range 200_000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		want := -1
		if i := bytes.IndexAny(b, "\"\\"); i >= 0 {
			want = i
		}
		if got := indexQuoteOrBackslash(b); got != want {
			t.Fatalf("indexQuoteOrBackslash(%q) = %d, want %d", b, got, want)
		}
	}
}
