package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hubtriage/config"
	"hubtriage/correlate"
	"hubtriage/correlate/ec2groups"

	"hubtriage/pipeline"
	"hubtriage/securityhub"
	"hubtriage/store"
	"hubtriage/store/bolt"
	"hubtriage/store/overlay"
	"hubtriage/store/writeback"
)

// correlation is the built correlation stage.
type correlation struct {
	engine  pipeline.Correlator
	sink    pipeline.Sink
	cleanup func() // removes a dry run's scratch index
}

// buildCorrelation returns the correlation stage and the sink of its
// findings (a zero correlation when it is off). A dry run correlates over
// an overlay of the store whose writes go to a scratch file, so it sees the
// real index and its own effects, records nothing, and stays small in
// memory; it imports nothing, but may write to opt.CorrelationsOut. On the
// embedded store, correlation writes go through a write-back buffer.
func buildCorrelation(ctx context.Context, cfg *config.Config, st store.Store, opt Options) (correlation, error) {
	c := correlation{cleanup: func() {}}
	if !cfg.Correlation.On() || len(cfg.Correlation.Compiled) == 0 {
		return c, nil
	}
	var idx store.Index = st
	_, embedded := st.(*bolt.Store)
	switch {
	case opt.DryRun:
		scratch, cleanup, err := scratchIndex(opt.Now)
		if err != nil {
			return c, err
		}
		top := writeback.New(scratch, writeback.Options{Now: opt.Now, Scratch: true})
		idx, c.cleanup = overlay.New(st, top, opt.Now), cleanup
	case embedded:
		// This process alone writes the bbolt file: correlation writes
		// are buffered and committed together, and the pipeline flushes
		// them before a run returns.
		idx = writeback.New(st, writeback.Options{Now: opt.Now})
	}
	// One process alone writes this index: a run settles each correlation
	// once, after its input, instead of once per finding.
	deferred := opt.DryRun || embedded
	groups, err := groupResolver(ctx, cfg, opt)
	if err != nil {
		c.cleanup()
		return correlation{}, err
	}
	c.engine = correlate.New(cfg.Correlation.Compiled, idx, correlate.Options{Now: opt.Now, Account: cfg.Correlation.Account, Defer: deferred,
		Groups: groups, GroupsTTL: time.Duration(cfg.Correlation.Relations.EC2.TTL)})
	switch {
	case opt.CorrelationsOut != nil:
		c.sink = &fileSink{w: opt.CorrelationsOut}
	case cfg.Correlation.Import && !opt.DryRun:
		client, err := SecurityHubClient(ctx, cfg)
		if err != nil {
			c.cleanup()
			return correlation{}, err
		}
		c.sink = &hubSink{client: client}
	}
	return c, nil
}

// scratchIndex opens a throw-away bbolt file for a dry run's index writes.
func scratchIndex(now func() time.Time) (store.Index, func(), error) {
	dir, err := os.MkdirTemp("", "hubtriage-dry-run-")
	if err != nil {
		return nil, nil, fmt.Errorf("dry-run scratch index: %w", err)
	}
	st, err := bolt.Open(filepath.Join(dir, "index.db"), bolt.Options{NoSync: true, Now: now})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("dry-run scratch index: %w", err)
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }, nil
}

// groupResolver builds the EC2 DescribeInstances lookup of instances'
// security groups when correlation.relations.ec2 turns it on (else nil).
func groupResolver(ctx context.Context, cfg *config.Config, opt Options) (correlate.GroupResolver, error) {
	e := cfg.Correlation.Relations.EC2
	if !e.Enabled {
		return nil, nil
	}
	awsCfg, err := LoadAWS(ctx, cfg.SecurityHub.Region)
	if err != nil {
		return nil, err
	}
	if e.Endpoint != "" {
		awsCfg.BaseEndpoint = &e.Endpoint
	}
	return ec2groups.New(awsCfg, ec2groups.Options{RoleName: e.RoleName, TTL: time.Duration(e.TTL), Rate: e.Rate, Log: opt.Logger}), nil
}

// SecurityHubClient builds the Security Hub client from the securityhub section.
func SecurityHubClient(ctx context.Context, cfg *config.Config) (*securityhub.Client, error) {
	awsCfg, err := LoadAWS(ctx, cfg.SecurityHub.Region)
	if err != nil {
		return nil, err
	}
	return securityhub.New(awsCfg, securityhub.Options{BaseEndpoint: cfg.SecurityHub.Endpoint})
}

// hubSink imports correlated findings with BatchImportFindings.
type hubSink struct{ client *securityhub.Client }

func (s *hubSink) Put(ctx context.Context, findings [][]byte) error {
	res, err := s.client.Import(ctx, findings)
	if err != nil {
		return err
	}
	if len(res.Failed) == 0 {
		return nil
	}
	var why []string
	for _, f := range res.Failed {
		why = append(why, fmt.Sprintf("%s: %s %s", f.ID, f.ErrorCode, f.ErrorMessage))
	}
	return fmt.Errorf("security hub rejected %d findings: %s", len(res.Failed), strings.Join(why, "; "))
}

// fileSink writes correlated findings as NDJSON (review, dry runs).
type fileSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *fileSink) Put(_ context.Context, findings [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range findings {
		if _, err := s.w.Write(append(append([]byte(nil), f...), '\n')); err != nil {
			return fmt.Errorf("write correlated finding: %w", err)
		}
	}
	return nil
}
