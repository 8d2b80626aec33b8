package ec2groups

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/internal/motoserver"
	"hubtriage/store/memstore"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// counter counts the DescribeInstances requests that reach the server.
type counter struct {
	next  http.RoundTripper
	calls atomic.Int32
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("Action=DescribeInstances")) {
			c.calls.Add(1)
		}
	}
	return c.next.RoundTrip(req)
}

// launch runs an instance with a new security group, with cfg's
// credentials (so in their account), and returns both ids.
func launch(t *testing.T, cfg aws.Config, name string) (instance, group string) {
	t.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("open to the world")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, SecurityGroupIds: []string{aws.ToString(sg.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId), aws.ToString(sg.GroupId)
}

// TestDescribeInstancesOnMoto asks moto_server's EC2 for the groups of
// instances, and the instances of groups, in the caller's account and,
// through an assumed role, in another account; answers are cached and
// unknown resources have none.
func TestDescribeInstancesOnMoto(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	base := moto.AWSConfig()
	cnt := &counter{next: http.DefaultTransport}
	base.HTTPClient = &http.Client{Transport: cnt, Timeout: time.Minute}
	ctx := context.Background()

	own, ownSG := launch(t, base, "own-open")
	ident, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	ownAccount := aws.ToString(ident.Account)
	const other, role = "111122223333", "hubtriage-relations"
	otherCfg := base.Copy()
	otherCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::"+other+":role/"+role))
	remote, remoteSG := launch(t, otherCfg, "remote-open")

	other2, _ := launch(t, base, "own-closed") // another instance, another group
	plain := New(base, Options{TTL: time.Hour})
	viaRole := New(base, Options{RoleName: role, TTL: time.Hour})
	ref := func(account, id string) correlate.Ref {
		return correlate.Ref{Type: "AwsEc2Instance", Name: id, Account: account, Region: motoserver.Region, Partition: "aws"}
	}
	group := func(account, id string) correlate.Ref {
		return correlate.Ref{Type: "AwsEc2SecurityGroup", Name: id, Account: account, Region: motoserver.Region, Partition: "aws"}
	}
	if other2 == own {
		t.Fatal("moto gave two instances one id")
	}
	tests := []struct {
		name string
		r    *Resolver
		ref  correlate.Ref
		want []string
	}{
		{"own account, own credentials", plain, ref(ownAccount, own), []string{ownSG}},
		{"other account through the assumed role", viaRole, ref(other, remote), []string{remoteSG}},
		{"other account's instance is not visible without the role", plain, ref(other, remote), nil},
		{"no such instance", plain, ref(ownAccount, "i-0123456789abcdef0"), nil},
		{"the instances of a group (not the other instance)", plain, group(ownAccount, ownSG), []string{own}},
		{"the instances of another account's group, through the role", viaRole, group(other, remoteSG), []string{remote}},
		{"a group no instance uses", plain, group(ownAccount, "sg-0123456789abcdef0"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cnt.calls.Load()
			ask := tt.r.InstanceGroups
			if tt.ref.Type == "AwsEc2SecurityGroup" {
				ask = tt.r.GroupInstances
			}
			for range 3 {
				got, err := ask(ctx, tt.ref)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("groups %v, want %v", got, tt.want)
				}
			}
			if n := cnt.calls.Load() - before; n != 1 {
				t.Errorf("%d DescribeInstances calls for 3 lookups, want 1 (cached)", n)
			}
		})
	}
}

// TestRateLimited: past its burst, a lookup waits for the limiter, and
// one whose context cannot wait that long fails without calling EC2; a
// cached answer does not wait.
func TestRateLimited(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	base := moto.AWSConfig()
	cnt := &counter{next: http.DefaultTransport}
	base.HTTPClient = &http.Client{Transport: cnt, Timeout: time.Minute}
	inst, sg := launch(t, base, "limited")
	r := New(base, Options{Rate: 1, TTL: time.Hour})
	ref := correlate.Ref{Type: "AwsEc2Instance", Name: inst, Region: motoserver.Region}
	ctx := context.Background()
	if got, err := r.InstanceGroups(ctx, ref); err != nil || !slices.Equal(got, []string{sg}) {
		t.Fatalf("first lookup: %v, %v", got, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	other := ref
	other.Name = "i-0123456789abcdef0"
	if _, err := r.InstanceGroups(short, other); err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("second lookup within the second: err %v, want the rate limiter's", err)
	}
	if got, err := r.InstanceGroups(short, ref); err != nil || !slices.Equal(got, []string{sg}) {
		t.Errorf("cached lookup: %v, %v", got, err)
	}
	if n := cnt.calls.Load(); n != 1 {
		t.Errorf("%d DescribeInstances calls, want 1", n)
	}
}

// TestExposedInstanceFiresWithGroupsFromEC2 runs the built-in rules over
// the Security Hub copies of the GuardDuty findings (which name no security
// group) for an instance running in moto_server: the resolver's answer
// supplies the link to the failing group.
func TestExposedInstanceFiresWithGroupsFromEC2(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	base := moto.AWSConfig()
	inst, sg := launch(t, base, "exposed")
	ident, err := sts.NewFromConfig(base).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := correlate.Compile(correlate.Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	at := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	e := correlate.New(rules, memstore.New().WithClock(clock), correlate.Options{Now: clock, Groups: New(base, Options{})})
	swap := strings.NewReplacer("i-0a1b2c3d4e5f60718", inst, "sg-0c0ffee0ddba11c0f", sg, "111122223333", aws.ToString(ident.Account))
	var results []correlate.Result
	for _, name := range []string{"control-ec2.9-consolidated.json", "control-ec2.19-consolidated-sg.json",
		"guardduty-network-port-unusual.json", "guardduty-ssh-bruteforce-target.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "findings", name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := asff.DecodeFinding([]byte(swap.Replace(string(b))))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := e.Observe(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, rs...)
	}
	if len(results) != 1 || results[0].Rule != "ec2-exposed-instance-under-attack" || !strings.HasSuffix(results[0].Resource, inst) {
		t.Fatalf("results %+v, want ec2-exposed-instance-under-attack on %s", results, inst)
	}
}
