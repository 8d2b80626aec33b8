package correlate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/asff/asffgen"
)

// generated decodes n findings of the generator seeded with seed.
func generated(b *testing.B, seed int64, n int) []*asff.Finding {
	b.Helper()
	g := asffgen.New(seed, asffgen.Options{Start: time.Now().Add(-24 * time.Hour).UTC()})
	out := make([]*asff.Finding, 0, n)
	for range n {
		f, err := asff.DecodeFinding(g.NextFinding())
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// BenchmarkObserve measures Observe with the three built-in rules over
// generated GuardDuty, Inspector, control and Macie findings, while the
// index already holds `stored` findings on other resources (other
// accounts). The cost per finding should not change with `stored`: it
// grows only with the findings on the observed finding's own resources.
func BenchmarkObserve(b *testing.B) {
	ctx := context.Background()
	for _, be := range backends {
		for _, stored := range []int{0, 5_000, 50_000} {
			b.Run(fmt.Sprintf("%s/stored=%d", be.name, stored), func(b *testing.B) {
				idx := newSpy(be.open(b))
				now := time.Now().UTC()
				e := New(builtins(b), idx, Options{Now: func() time.Time { return now }})
				for _, f := range generated(b, 2, stored) { // other accounts and resources
					if _, err := e.Observe(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
				work := generated(b, 1, 20_000)
				for _, f := range work[:2_000] { // warm: the measured resources have history
					if _, err := e.Observe(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
				work = work[2_000:]
				i, correlated := 0, 0
				idx.resetCounts()
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					rs, err := e.Observe(ctx, work[i%len(work)])
					if err != nil {
						b.Fatal(err)
					}
					correlated += len(rs)
					i++
				}
				b.ReportMetric(float64(i)/time.Since(start).Seconds(), "findings/s")
				b.ReportMetric(float64(correlated), "correlated")
				b.ReportMetric(float64(idx.read)/float64(i), "entries-read/op")
			})
		}
	}
}
