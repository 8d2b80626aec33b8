// Package ec2groups asks EC2 which security groups an instance uses, for
// the correlation rules whose conditions count findings on an instance's
// security groups when no finding said which those are
// (correlate.GroupResolver; config correlation.relations.ec2).
//
// It calls DescribeInstances in the instance's own account and region:
// with a role name, through that role assumed in the instance's account
// (arn:<partition>:iam::<account>:role/<name>), else with the process's own
// credentials. Answers, including "no such instance", are kept for a TTL,
// and calls across all accounts are rate-limited.
package ec2groups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"hubtriage/correlate"
)

// Options configures a Resolver.
type Options struct {
	// RoleName is the role assumed in the instance's account; empty means
	// the base credentials, for instances of their own account only.
	RoleName string
	// TTL is how long an answer is kept (default correlate.DefaultGroupsTTL).
	TTL time.Duration
	// Rate bounds DescribeInstances calls per second, all accounts
	// together (default 5).
	Rate int
	// CacheSize bounds the answers kept (default 10000 instances).
	CacheSize int
	// Log reports instances that could not be looked up (default: discard).
	Log *slog.Logger
}

// Resolver implements correlate.GroupResolver with EC2 DescribeInstances.
// It is safe for concurrent use.
type Resolver struct {
	base    aws.Config
	opt     Options
	limiter *rate.Limiter
	answers *expirable.LRU[string, []string]

	mu      sync.Mutex
	clients map[string]*ec2.Client // by account and region
}

var _ correlate.GroupResolver = (*Resolver)(nil)

// New returns a Resolver whose clients derive from base (region,
// credentials, endpoint).
func New(base aws.Config, opt Options) *Resolver {
	if opt.TTL <= 0 {
		opt.TTL = correlate.DefaultGroupsTTL
	}
	if opt.Rate <= 0 {
		opt.Rate = 5
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = 10000
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Resolver{
		base: base, opt: opt,
		limiter: rate.NewLimiter(rate.Limit(opt.Rate), opt.Rate),
		answers: expirable.NewLRU[string, []string](opt.CacheSize, nil, opt.TTL),
		clients: map[string]*ec2.Client{},
	}
}

// InstanceGroups returns the ids of the security groups attached to the
// instance's network interfaces. See correlate.GroupResolver for the
// contract: an instance EC2 does not know, or that the credentials may not
// describe, has none (logged); throttling that outlasts the SDK's retries
// and network errors are errors.
func (r *Resolver) InstanceGroups(ctx context.Context, inst correlate.Ref) ([]string, error) {
	key := inst.Account + "/" + inst.Region + "/" + inst.Name
	if groups, ok := r.answers.Get(key); ok {
		return groups, nil
	}
	if err := r.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	groups, err := r.describe(ctx, inst)
	if err != nil && !permanent(err) {
		return nil, err
	}
	if err != nil {
		r.opt.Log.Warn("cannot look up the security groups of an instance", "instance", inst.Name,
			"account", inst.Account, "region", inst.Region, "err", err)
		groups = nil
	}
	r.answers.Add(key, groups)
	return groups, nil
}

// describe calls DescribeInstances for one instance.
func (r *Resolver) describe(ctx context.Context, inst correlate.Ref) ([]string, error) {
	out, err := r.client(inst).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{inst.Name}})
	if err != nil {
		return nil, fmt.Errorf("describe instance %s in %s/%s: %w", inst.Name, inst.Account, inst.Region, err)
	}
	var groups []string
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			for _, ni := range in.NetworkInterfaces {
				for _, g := range ni.Groups {
					groups = appendNew(groups, aws.ToString(g.GroupId))
				}
			}
			for _, g := range in.SecurityGroups {
				groups = appendNew(groups, aws.ToString(g.GroupId))
			}
		}
	}
	return groups, nil
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// client returns the EC2 client for the instance's account and region.
func (r *Resolver) client(inst correlate.Ref) *ec2.Client {
	region := inst.Region
	if region == "" {
		region = r.base.Region
	}
	key := inst.Account + "/" + region
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[key]; ok {
		return c
	}
	cfg := r.base.Copy()
	cfg.Region = region
	if r.opt.RoleName != "" && inst.Account != "" {
		partition := inst.Partition
		if partition == "" {
			partition = "aws"
		}
		arn := "arn:" + partition + ":iam::" + inst.Account + ":role/" + r.opt.RoleName
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(r.base), arn,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "hubtriage-relations" }))
	}
	c := ec2.NewFromConfig(cfg)
	r.clients[key] = c
	return c
}

// permanent reports whether err will not go away by asking again soon:
// the instance does not exist, or the credentials may not describe it
// (or may not assume the role).
func permanent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "UnauthorizedOperation",
		"AuthFailure", "AccessDenied", "AccessDeniedException", "OptInRequired":
		return true
	}
	return false
}
