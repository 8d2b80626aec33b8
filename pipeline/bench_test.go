package pipeline

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
	"hubtriage/asff/asffgen"
	"hubtriage/correlate"
	"hubtriage/internal/notifytest"
	"hubtriage/notify"
	"hubtriage/store/bolt"
)

const benchFindings = 100_000

// corpus is 100k generated EventBridge events (about 1.6 KB each) as NDJSON.
func corpus(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := asffgen.New(1, asffgen.Options{}).WriteNDJSON(&buf, benchFindings); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchRules(b *testing.B, ch notify.Channel) []Rule {
	return []Rule{
		{Name: "critical-and-high", RenotifyAfter: 5 * day, Channels: []notify.Channel{ch},
			Filter: mustFilter(b, `{"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"},{"Value":"HIGH","Comparison":"EQUALS"}],"RecordState":[{"Value":"ACTIVE","Comparison":"EQUALS"}]}`)},
		{Name: "failed-controls", RenotifyAfter: 15 * day, Channels: []notify.Channel{ch},
			Filter: mustFilter(b, `{"ComplianceStatus":[{"Value":"FAILED","Comparison":"EQUALS"}],"ProductName":[{"Value":"Security Hub","Comparison":"EQUALS"}]}`)},
		{Name: "guardduty-report", Filter: mustFilter(b, `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}]}`)},
	}
}

// benchPipeline runs the whole pipeline (stream decode, filter, dedup on
// bbolt, null channel, JSON decision output) over the corpus b.N times.
// Clocks for the benchmarks: long after the corpus (every finding outside
// the correlation windows), and at its end (seed 1 spans 2024-06-03 to
// 2024-06-05), where the correlation rules hold and fire.
var (
	afterCorpus = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	corpusEnd   = time.Date(2024, 6, 5, 16, 0, 0, 0, time.UTC)
)

func benchPipeline(b *testing.B, dryRun, correlation bool) {
	benchPipelineAt(b, dryRun, correlation, afterCorpus)
}

func benchPipelineAt(b *testing.B, dryRun, correlation bool, now time.Time) {
	data := corpus(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var total int64
	for range b.N {
		b.StopTimer()
		st, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		null := &notifytest.Null{ChannelName: "null"}
		opt := Options{Rules: benchRules(b, null), Store: st, Now: func() time.Time { return now }}
		if dryRun {
			opt = DryRun(opt)
		}
		if correlation {
			rules, errs := correlate.Compile(correlate.Config{})
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			// As app builds it: over the store, or the dry run's layer.
			opt.Correlator = correlate.New(rules, opt.Store, correlate.Options{Now: opt.Now, Defer: true})
		}
		p, err := New(opt)
		if err != nil {
			b.Fatal(err)
		}
		src := func(ctx context.Context, fn func(asff.Result) error) error {
			return asff.Stream(ctx, "bench.ndjson", bytes.NewReader(data), asff.Options{}, fn)
		}
		enc := json.NewEncoder(io.Discard)
		b.StartTimer()
		sum, err := p.Run(context.Background(), src, func(d Decision) error { return enc.Encode(d) })
		if err != nil {
			b.Fatal(err)
		}
		total += sum.Read
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "findings/s")
}

// BenchmarkPipelineDryRun100k is the replay --dry-run path.
func BenchmarkPipelineDryRun100k(b *testing.B) { benchPipeline(b, true, false) }

// BenchmarkPipelineBolt100k records every decision in bbolt and "sends"
// to a null channel.
func BenchmarkPipelineBolt100k(b *testing.B) { benchPipeline(b, false, false) }

// BenchmarkPipelineDryRunCorrelate100k adds the three built-in correlation
// rules to the dry run.
func BenchmarkPipelineDryRunCorrelate100k(b *testing.B) { benchPipeline(b, true, true) }

// BenchmarkPipelineBoltCorrelate100k adds the three built-in correlation
// rules, indexing in bbolt.
func BenchmarkPipelineBoltCorrelate100k(b *testing.B) { benchPipeline(b, false, true) }

// BenchmarkPipelineDryRunCorrelateInWindow100k runs the dry run with the
// three built-ins at the corpus's end, where its ~200 resources carry
// hundreds of findings each and the rules fire thousands of times.
func BenchmarkPipelineDryRunCorrelateInWindow100k(b *testing.B) {
	benchPipelineAt(b, true, true, corpusEnd)
}

// BenchmarkPipelineDryRunInWindow100k is its baseline without correlation.
func BenchmarkPipelineDryRunInWindow100k(b *testing.B) { benchPipelineAt(b, true, false, corpusEnd) }

// BenchmarkPipelineBoltCorrelateInWindow100k runs the full pipeline on
// bbolt with the three built-ins at the corpus's end, where they fire.
func BenchmarkPipelineBoltCorrelateInWindow100k(b *testing.B) {
	benchPipelineAt(b, false, true, corpusEnd)
}

// BenchmarkPipelineBoltInWindow100k is its baseline without correlation.
func BenchmarkPipelineBoltInWindow100k(b *testing.B) { benchPipelineAt(b, false, false, corpusEnd) }
