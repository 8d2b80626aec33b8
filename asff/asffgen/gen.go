// Package asffgen generates realistic, deterministic Security Hub findings
// for benchmarks, load tests and demos: EventBridge "Security Hub Findings -
// Imported" events, one finding each, mixing GuardDuty, Inspector v2, Security
// Hub control (legacy and consolidated) and Macie findings over a pool of
// accounts, regions and resources, with re-imports of earlier findings and
// their resolution.
package asffgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Options shapes the generated stream. Zero values take the defaults.
type Options struct {
	// Accounts is the number of AWS accounts (default 12).
	Accounts int
	// Regions findings are spread over (default us-east-1, us-west-2,
	// eu-west-1, eu-central-1, ap-southeast-2).
	Regions []string
	// RepeatRate is the share of events that re-import an earlier, still
	// open finding with a later UpdatedAt (default 0.35; negative means 0).
	RepeatRate float64
	// ResolveRate is the share of re-imports that resolve the finding:
	// archived, workflow RESOLVED or compliance PASSED depending on the
	// product (default 0.25; negative means 0).
	ResolveRate float64
	// Start is the time of the first event (default 2024-06-03T08:00:00Z);
	// each event is 0.5-3.5 s after the previous one.
	Start time.Time
}

// maxOpen bounds how many open findings are remembered for re-import.
const maxOpen = 4096

// Generator produces events. It is deterministic: the same seed and
// options give the same bytes. It is not safe for concurrent use.
type Generator struct {
	rng      *rand.Rand
	opt      Options
	accounts []*account
	open     []*spec // open findings that may be re-imported
	// byIdentity holds the finding each product keeps for one kind of
	// issue on one resource (see identity).
	byIdentity map[string]*spec
	now        time.Time
	buf        bytes.Buffer
	enc        *json.Encoder
}

// New returns a generator seeded with seed.
func New(seed int64, opt Options) *Generator {
	if opt.Accounts <= 0 {
		opt.Accounts = 12
	}
	if len(opt.Regions) == 0 {
		opt.Regions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}
	}
	if opt.RepeatRate == 0 {
		opt.RepeatRate = 0.35
	}
	if opt.ResolveRate == 0 {
		opt.ResolveRate = 0.25
	}
	if opt.Start.IsZero() {
		opt.Start = time.Date(2024, 6, 3, 8, 0, 0, 0, time.UTC)
	}
	g := &Generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed_a55f)), opt: opt, now: opt.Start, byIdentity: map[string]*spec{}}
	g.enc = json.NewEncoder(&g.buf)
	g.enc.SetEscapeHTML(false)
	for range opt.Accounts {
		g.accounts = append(g.accounts, g.newAccount())
	}
	return g
}

// Next returns the next EventBridge "Security Hub Findings - Imported" event
// as one line of JSON (without the trailing newline). The slice is the
// caller's.
func (g *Generator) Next() []byte {
	f := g.nextFinding()
	ev := envelope{
		Version:    "0",
		ID:         g.uuid(),
		DetailType: "Security Hub Findings - Imported",
		Source:     "aws.securityhub",
		Account:    f.AwsAccountID,
		Time:       g.now.Format(time.RFC3339),
		Region:     f.Region,
		Resources:  []string{f.ProductArn + "/" + f.ID},
		Detail:     detail{Findings: []*finding{f}},
	}
	return g.encode(ev)
}

// WriteNDJSON writes n events to w, one per line.
func (g *Generator) WriteNDJSON(w io.Writer, n int) error {
	for range n {
		line := append(g.Next(), '\n')
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("write generated events: %w", err)
		}
	}
	return nil
}

// encode marshals v as compact JSON without HTML escaping.
func (g *Generator) encode(v any) []byte {
	g.buf.Reset()
	if err := g.enc.Encode(v); err != nil {
		panic(fmt.Sprintf("asffgen: encode: %v", err)) // only plain structs are encoded
	}
	return bytes.Clone(bytes.TrimSuffix(g.buf.Bytes(), []byte{'\n'}))
}

// nextFinding advances the clock and returns a new finding or a re-import.
func (g *Generator) nextFinding() *finding {
	g.now = g.now.Add(time.Duration(500+g.rng.IntN(3000)) * time.Millisecond)
	if len(g.open) > 0 && g.rng.Float64() < g.opt.RepeatRate {
		i := g.rng.IntN(len(g.open))
		s := g.open[i]
		s.count++
		if g.rng.Float64() < g.opt.ResolveRate {
			s.resolved, s.queued = true, false
			g.open[i] = g.open[len(g.open)-1]
			g.open = g.open[:len(g.open)-1]
		}
		return g.render(s)
	}
	s := g.newSpec()
	if prev := g.byIdentity[s.identity()]; prev != nil && (!prev.resolved || prev.reopens()) {
		// The product updates the finding it already has for this issue
		// on this resource (reopening a resolved one) rather than minting
		// a new one.
		s = prev
		s.count++
		s.resolved = false
	} else if key := s.identity(); key != "" {
		g.byIdentity[key] = s
	}
	if !s.queued {
		g.queue(s)
	}
	return g.render(s)
}

// queue remembers s as open for later re-imports.
func (g *Generator) queue(s *spec) {
	s.queued = true
	if len(g.open) < maxOpen {
		g.open = append(g.open, s)
		return
	}
	i := g.rng.IntN(maxOpen)
	g.open[i].queued = false
	g.open[i] = s
}

// pick returns a random element index weighted by weights.
func (g *Generator) pick(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := g.rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

func (g *Generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *Generator) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
