package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"hubtriage/config"
	"hubtriage/correlate"
	"hubtriage/correlate/memindex"
	"hubtriage/pipeline"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// buildCorrelation returns the correlation stage and the sink of its
// findings (nil, nil when correlation is off). A dry run correlates over
// an in-memory overlay of the store, so it sees the real index but
// records nothing; it imports nothing, but may write to opt.CorrelationsOut.
func buildCorrelation(ctx context.Context, cfg *config.Config, st store.Store, opt Options) (pipeline.Correlator, pipeline.Sink, error) {
	if !cfg.Correlation.On() || len(cfg.Correlation.Compiled) == 0 {
		return nil, nil, nil
	}
	var idx store.Index = st
	if opt.DryRun {
		idx = memindex.Overlay(st).WithClock(opt.Now)
	}
	engine := correlate.New(cfg.Correlation.Compiled, idx, correlate.Options{Now: opt.Now, Account: cfg.Correlation.Account})
	switch {
	case opt.CorrelationsOut != nil:
		return engine, &fileSink{w: opt.CorrelationsOut}, nil
	case cfg.Correlation.Import && !opt.DryRun:
		client, err := SecurityHubClient(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return engine, &hubSink{client: client}, nil
	}
	return engine, nil, nil
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
