package output

import (
	"bytes"
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
// pipeline reports them, rows written through Above as they come).
type Progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	mu    sync.Mutex // serialises drawing the bar and writing above it
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
	}
	if totalBytes >= 0 {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true))
	} else {
		opts = append(opts, progressbar.OptionSpinnerType(14))
	}
	return &Progress{w: w, bar: progressbar.NewOptions64(totalBytes, opts...), start: time.Now()}
}

// Read counts n bytes of input read.
func (p *Progress) Read(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Add(n)
}

// Findings updates the counts from the pipeline's running summary.
func (p *Progress) Findings(s pipeline.Summary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.describe(s)
}

func (p *Progress) describe(s pipeline.Summary) {
	rate := float64(s.Read) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%d findings, %.0f/s", s.Read, rate))
}

// Finish draws the final state with the run's totals and ends its line,
// once.
func (p *Progress) Finish(s pipeline.Summary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.describe(s)
	_ = p.bar.Finish()
	fmt.Fprintln(p.w)
}

// Above wraps w, the same terminal the bar is drawn on (the table on
// stdout), so that whole lines written to it scroll above the bar: each
// write of complete lines first clears the bar, which redraws below them.
func (p *Progress) Above(w io.Writer) io.Writer { return &aboveBar{p: p, w: w} }

// aboveBar passes on complete lines only, so the bar is never drawn after
// half a row.
type aboveBar struct {
	p       *Progress
	w       io.Writer
	partial []byte
}

func (a *aboveBar) Write(b []byte) (int, error) {
	a.partial = append(a.partial, b...)
	i := bytes.LastIndexByte(a.partial, '\n')
	if i < 0 {
		return len(b), nil
	}
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	if !a.p.done {
		_ = a.p.bar.Clear()
	}
	_, err := a.w.Write(a.partial[:i+1])
	a.partial = append(a.partial[:0], a.partial[i+1:]...)
	return len(b), err
}
