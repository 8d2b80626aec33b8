// Package ec2groups asks EC2 which security groups an instance uses (and
// which instances use a security group), for
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
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
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

// MaxGroupInstances bounds the instances GroupInstances returns for one
// security group (the first ones EC2 lists; the rest are logged).
const MaxGroupInstances = 1000

// InstanceGroups returns the ids of the security groups attached to the
// instance (its network interfaces'). See correlate.GroupResolver for the
// contract: an instance EC2 does not know, or that the credentials may not
// describe, has none (logged); throttling that outlasts the SDK's retries
// and network errors are errors.
func (r *Resolver) InstanceGroups(ctx context.Context, inst correlate.Ref) ([]string, error) {
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{inst.Name}}
	return r.lookup(ctx, "instance", inst, in, groupsOf)
}

// GroupInstances returns the ids of the instances the security group is
// attached to (DescribeInstances filtered on instance.group-id), at most
// MaxGroupInstances; same contract as InstanceGroups.
func (r *Resolver) GroupInstances(ctx context.Context, group correlate.Ref) ([]string, error) {
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance.group-id"), Values: []string{group.Name}}}}
	return r.lookup(ctx, "security group", group, in, instancesOf)
}

// lookup answers from the cache, else rate-limited DescribeInstances pages
// read by pick.
func (r *Resolver) lookup(ctx context.Context, what string, ref correlate.Ref, in *ec2.DescribeInstancesInput,
	pick func([]types.Reservation, []string) []string) ([]string, error) {
	key := ref.Type + "/" + ref.Account + "/" + ref.Region + "/" + ref.Name
	if ids, ok := r.answers.Get(key); ok {
		return ids, nil
	}
	ids, err := r.describe(ctx, ref, in, pick)
	if err != nil && !permanent(err) {
		return nil, err
	}
	if err != nil {
		r.opt.Log.Warn("cannot look up the relations of a "+what, "id", ref.Name, "account", ref.Account, "region", ref.Region, "err", err)
		ids = nil
	}
	r.answers.Add(key, ids)
	return ids, nil
}

// describe reads DescribeInstances pages, each after the rate limiter, until
// pick has MaxGroupInstances ids or the pages end.
func (r *Resolver) describe(ctx context.Context, ref correlate.Ref, in *ec2.DescribeInstancesInput,
	pick func([]types.Reservation, []string) []string) ([]string, error) {
	var ids []string
	pages := ec2.NewDescribeInstancesPaginator(r.client(ref), in)
	for pages.HasMorePages() && len(ids) < MaxGroupInstances {
		if err := r.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances of %s in %s/%s: %w", ref.Name, ref.Account, ref.Region, err)
		}
		ids = pick(out.Reservations, ids)
	}
	if len(ids) > MaxGroupInstances {
		r.opt.Log.Warn("security group used by more instances than are related", "id", ref.Name, "kept", MaxGroupInstances)
		ids = ids[:MaxGroupInstances]
	}
	return ids, nil
}

// groupsOf appends the security groups of the listed instances.
func groupsOf(rs []types.Reservation, ids []string) []string {
	for _, res := range rs {
		for _, in := range res.Instances {
			for _, ni := range in.NetworkInterfaces {
				for _, g := range ni.Groups {
					ids = appendNew(ids, aws.ToString(g.GroupId))
				}
			}
			for _, g := range in.SecurityGroups {
				ids = appendNew(ids, aws.ToString(g.GroupId))
			}
		}
	}
	return ids
}

// instancesOf appends the ids of the listed instances.
func instancesOf(rs []types.Reservation, ids []string) []string {
	for _, res := range rs {
		for _, in := range res.Instances {
			ids = appendNew(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
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
