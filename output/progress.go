package output

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"hubtriage/pipeline"
)

// Progress shows a long run's progress on a terminal: the findings read and
// their rate, and, when the inputs are files of known total size, the
// percentage of their bytes read and the time left. It is safe for
// concurrent use (bytes are counted as the reader reads, findings as the
// pipeline reports them).
type Progress struct {
	bar   *progressbar.ProgressBar
	start time.Time
	mu    sync.Mutex
	done  bool
}

// NewProgress draws on w (a terminal); totalBytes < 0 means unknown (stdin):
// a spinner with the counts instead of a bar.
func NewProgress(w io.Writer, totalBytes int64) *Progress {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionThrottle(200 * time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	}
	if totalBytes >= 0 {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true))
	} else {
		opts = append(opts, progressbar.OptionSpinnerType(14))
	}
	return &Progress{bar: progressbar.NewOptions64(totalBytes, opts...), start: time.Now()}
}

// Read counts n bytes of input read.
func (p *Progress) Read(n int) { _ = p.bar.Add(n) }

// Findings updates the counts from the pipeline's running summary.
func (p *Progress) Findings(s pipeline.Summary) {
	rate := float64(s.Read) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%d findings, %.0f/s", s.Read, rate))
}

// Finish draws the final state with the run's totals, once.
func (p *Progress) Finish(s pipeline.Summary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.Findings(s)
	_ = p.bar.Finish()
}
