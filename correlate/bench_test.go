package correlate

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/asff/asffgen"
	"hubtriage/store/memstore"
)

// generated decodes n findings of the generator seeded with seed.
func generated(b *testing.B, seed int64, n int) []*asff.Finding {
	b.Helper()
	var events bytes.Buffer
	g := asffgen.New(seed, asffgen.Options{Start: time.Now().Add(-24 * time.Hour).UTC()})
	if err := g.WriteNDJSON(&events, n); err != nil {
		b.Fatal(err)
	}
	out := make([]*asff.Finding, 0, n)
	err := asff.Stream(context.Background(), "generated", &events, asff.Options{}, func(r asff.Result) error {
		out = append(out, r.Finding)
		return r.Err
	})
	if err != nil {
		b.Fatal(err)
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

// BenchmarkObserveCorpus replays 20k generated events (the pipeline
// benchmark's corpus, seed 1) through a fresh engine on an in-memory index,
// once with the clock just after the last event, so that everything is in
// the window and the built-in rules fire on hot resources (about 200
// resources take all 20k findings), and once two years later, when every
// finding is out of the window and counts for nothing (the pipeline
// benchmark's clock). Reported per finding.
func BenchmarkObserveCorpus(b *testing.B) {
	ctx := context.Background()
	var buf bytes.Buffer
	if err := asffgen.New(1, asffgen.Options{}).WriteNDJSON(&buf, 20_000); err != nil {
		b.Fatal(err)
	}
	var fs []*asff.Finding
	err := asff.Stream(ctx, "corpus", &buf, asff.Options{}, func(r asff.Result) error {
		if r.Finding != nil {
			fs = append(fs, r.Finding)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	last := fs[len(fs)-1].UpdatedAt.Add(time.Minute)
	for _, c := range []struct {
		name string
		now  time.Time
	}{{"in-window", last}, {"out-of-window", last.AddDate(2, 0, 0)}} {
		b.Run(c.name, func(b *testing.B) {
			clock := fixed(c.now)
			rules := builtins(b)
			b.ReportAllocs()
			correlated := 0
			for b.Loop() {
				e := New(rules, memstore.New().WithClock(clock), Options{Now: clock})
				for _, f := range fs {
					rs, err := e.Observe(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					correlated += len(rs)
				}
			}
			b.ReportMetric(float64(b.N*len(fs))/b.Elapsed().Seconds(), "findings/s")
			b.ReportMetric(float64(correlated)/float64(b.N), "correlated")
		})
	}
}
