package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hubtriage/config"
	"hubtriage/correlate"
	"hubtriage/correlate/ec2groups"
	"hubtriage/pipeline"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// correlation is the built correlation stage.
type correlation struct {
	engine pipeline.Correlator
	sink   pipeline.Sink
}

// buildCorrelation returns the correlation stage and the sink of its
// findings (a zero correlation when it is off). It is the same on every
// backend: the engine records what each finding changes and settles once
// per batch, and the store makes the batch durable (store.Store.Flush). A
// dry run passes its scratch layer as st, imports nothing, but may write
// to opt.CorrelationsOut.
func buildCorrelation(ctx context.Context, cfg *config.Config, st store.Store, opt Options) (correlation, error) {
	var c correlation
	if !cfg.Correlation.On() || len(cfg.Correlation.Compiled) == 0 {
		return c, nil
	}
	groups, err := groupResolver(ctx, cfg, opt)
	if err != nil {
		return correlation{}, err
	}
	c.engine = correlate.New(cfg.Correlation.Compiled, st, correlate.Options{Now: opt.Now, Account: cfg.Correlation.Account, Defer: true,
		Groups: groups, GroupsTTL: time.Duration(cfg.Correlation.Relations.EC2.TTL)})
	switch {
	case opt.CorrelationsOut != nil:
		c.sink = &fileSink{w: opt.CorrelationsOut}
	case cfg.Correlation.Import && !opt.DryRun:
		client, err := SecurityHubClient(ctx, cfg)
		if err != nil {
			return correlation{}, err
		}
		c.sink = &hubSink{client: client}
	}
	return c, nil
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

func (s *hubSink) Put(ctx context.Context, findings [][]byte) (map[int]error, error) {
	res, err := s.client.Import(ctx, findings)
	if err != nil {
		return nil, err
	}
	if len(res.Failed) == 0 {
		return nil, nil
	}
	at := make(map[string]int, len(findings))
	for i, f := range findings {
		at[findingID(f)] = i
	}
	refused := map[int]error{}
	var unknown []string
	for _, f := range res.Failed {
		why := fmt.Errorf("security hub rejected %s: %s %s", f.ID, f.ErrorCode, f.ErrorMessage)
		i, ok := at[f.ID]
		if !ok {
			unknown = append(unknown, why.Error())
			continue
		}
		refused[i] = why
	}
	if len(unknown) > 0 {
		// A rejection naming no finding we sent: no telling which failed.
		return nil, errors.New(strings.Join(unknown, "; "))
	}
	return refused, nil
}

// findingID is the Id of an ASFF finding document ("" when it has none).
func findingID(doc []byte) string {
	var f struct{ Id string }
	_ = json.Unmarshal(doc, &f)
	return f.Id
}

// fileSink writes correlated findings as NDJSON (review, dry runs).
type fileSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *fileSink) Put(_ context.Context, findings [][]byte) (map[int]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range findings {
		if _, err := s.w.Write(append(append([]byte(nil), f...), '\n')); err != nil {
			return nil, fmt.Errorf("write correlated finding: %w", err)
		}
	}
	return nil, nil
}
