package asff

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	goccy "github.com/goccy/go-json"

	"hubtriage/asff/asffgen"
)

// generatedFindings returns the finding objects of n generated events.
func generatedFindings(tb testing.TB, n int) [][]byte {
	tb.Helper()
	g := asffgen.New(42, asffgen.Options{})
	out := make([][]byte, n)
	for i := range out {
		var ev struct {
			Detail struct {
				Findings []stdjson.RawMessage `json:"findings"`
			} `json:"detail"`
		}
		if err := stdjson.Unmarshal(g.Next(), &ev); err != nil || len(ev.Detail.Findings) != 1 {
			tb.Fatalf("generated event: %v (%d findings)", err, len(ev.Detail.Findings))
		}
		out[i] = ev.Detail.Findings[0]
	}
	return out
}

// generatedReader returns a reader of n generated events as NDJSON,
// produced as it is read, so large inputs need no memory.
func generatedReader(t *testing.T, seed int64, n int) io.Reader {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(asffgen.New(seed, asffgen.Options{}).WriteNDJSON(pw, n)) }()
	t.Cleanup(func() { pr.Close() })
	return pr
}

func totalLen(docs [][]byte) int64 {
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	return n
}

// BenchmarkDecode measures DecodeFinding (the hand-written fast decoder)
// per finding.
func BenchmarkDecode(b *testing.B) {
	docs := generatedFindings(b, 1000)
	b.SetBytes(totalLen(docs) / int64(len(docs)))
	b.ReportAllocs()
	start, i := time.Now(), 0
	for ; b.Loop(); i++ {
		if _, err := DecodeFinding(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "findings/s")
}

// BenchmarkDecodeStdlib is the same work with encoding/json (the slow
// path), and BenchmarkDecodeGoccy with goccy/go-json; they are kept to
// justify the choice of decoder: run all three and compare findings/s.
func BenchmarkDecodeStdlib(b *testing.B) {
	docs := generatedFindings(b, 1000)
	b.SetBytes(totalLen(docs) / int64(len(docs)))
	b.ReportAllocs()
	start, i := time.Now(), 0
	for ; b.Loop(); i++ {
		raw := bytes.Clone(docs[i%len(docs)])
		var w wireFinding
		if err := stdjson.Unmarshal(raw, &w); err != nil {
			b.Fatal(err)
		}
		f, err := w.convert()
		if err != nil {
			b.Fatal(err)
		}
		f.Raw = raw
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "findings/s")
}

func BenchmarkDecodeGoccy(b *testing.B) {
	docs := generatedFindings(b, 1000)
	b.SetBytes(totalLen(docs) / int64(len(docs)))
	b.ReportAllocs()
	start, i := time.Now(), 0
	for ; b.Loop(); i++ {
		raw := bytes.Clone(docs[i%len(docs)])
		var w wireFinding
		if err := goccy.Unmarshal(raw, &w); err != nil {
			b.Fatal(err)
		}
		f, err := w.convert()
		if err != nil {
			b.Fatal(err)
		}
		f.Raw = raw
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "findings/s")
}

// BenchmarkStream100k streams 100k generated NDJSON events from memory with
// GOMAXPROCS workers.
func BenchmarkStream100k(b *testing.B) {
	const n = 100_000
	var buf bytes.Buffer
	if err := asffgen.New(7, asffgen.Options{}).WriteNDJSON(&buf, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start, runs := time.Now(), 0
	for ; b.Loop(); runs++ {
		count := 0
		err := Stream(context.Background(), "bench", bytes.NewReader(data), Options{}, func(r Result) error {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			count++
			return nil
		})
		if err != nil || count != n {
			b.Fatalf("streamed %d findings, err %v", count, err)
		}
	}
	b.ReportMetric(float64(n*runs)/time.Since(start).Seconds(), "findings/s")
}

// TestStreamHeapBounded streams ~200 MB of generated events, produced on
// the fly by an io.Reader, once as NDJSON and once as a single top-level
// JSON array, and checks the heap stays far below the input size: Stream
// must not accumulate input or results.
func TestStreamHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 x 200 MB; skipped with -short")
	}
	const n = 110_000
	const limit = 64 << 20
	tests := []struct {
		name  string
		input func() io.Reader
		want  int
	}{
		{"ndjson", func() io.Reader { return generatedReader(t, 3, n) }, n},
		{"one top-level array", func() io.Reader {
			return io.MultiReader(strings.NewReader("[\n"), &newlineToComma{r: generatedReader(t, 3, n)},
				strings.NewReader(minimal("last")+"]"))
		}, n + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var peak uint64
			var inputBytes int64
			count := 0
			r := &countingReader{r: tt.input(), n: &inputBytes}
			err := Stream(context.Background(), "generated", r, Options{}, func(res Result) error {
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				count++
				if count%5000 == 0 {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
				return nil
			})
			if err != nil || count != tt.want {
				t.Fatalf("streamed %d findings, err %v; want %d", count, err, tt.want)
			}
			t.Logf("input %d MB, peak HeapInuse %d MB", inputBytes>>20, peak>>20)
			if inputBytes < 150<<20 {
				t.Fatalf("input was only %d bytes; the test needs a large input", inputBytes)
			}
			if peak > limit {
				t.Errorf("peak HeapInuse %d MB for %d MB of input, want under %d MB", peak>>20, inputBytes>>20, limit>>20)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// newlineToComma turns NDJSON into the inside of a JSON array (raw newlines
// cannot occur inside JSON strings, so every one separates documents).
type newlineToComma struct{ r io.Reader }

func (c *newlineToComma) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			p[i] = ','
		}
	}
	return n, err
}
