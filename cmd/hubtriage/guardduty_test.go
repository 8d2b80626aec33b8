package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"hubtriage/internal/motoserver"
	"hubtriage/internal/smtptest"
)

// TestGuardDutyEventAndItsSecurityHubCopyAlertOnce replays a GuardDuty
// "GuardDuty Finding" event and the Security Hub copy of the same finding
// (in both orders): one identity, so one email and one duplicate.
func TestGuardDutyEventAndItsSecurityHubCopyAlertOnce(t *testing.T) {
	dir := filepath.Join("..", "..", "correlate", "testdata", "findings")
	event := filepath.Join(dir, "guardduty-event-ssh-bruteforce-target.json")
	copyOf := filepath.Join(dir, "guardduty-ssh-bruteforce-target.json")
	for _, order := range [][]string{{event, copyOf}, {copyOf, event}} {
		srv := smtptest.Start(t)
		cfg := writeConfig(t, srv)
		state := filepath.Join(t.TempDir(), "state.db")
		r := execute(t, "", append([]string{"replay", "--config", cfg, "--state", state, "--now", "2024-05-20T12:00:00Z"}, order...)...)
		if r.code != 0 || r.kinds() != "notify,duplicate" {
			t.Fatalf("%s then %s: exit %d, decisions %s, want notify,duplicate\nstderr: %s",
				filepath.Base(order[0]), filepath.Base(order[1]), r.code, r.kinds(), r.stderr)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}
	}
}

// TestReplayAsksEC2ForSecurityGroups replays the Security Hub copies of the
// exposed-instance findings (no GuardDuty event, so nothing names the
// instance's security groups) for an instance running in moto_server: with
// correlation.relations.ec2 on, DescribeInstances supplies the link and the
// rule fires; with it off, it does not.
func TestReplayAsksEC2ForSecurityGroups(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	t.Setenv("AWS_ACCESS_KEY_ID", motoserver.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", motoserver.SecretKey)
	t.Setenv("AWS_REGION", motoserver.Region)
	ctx := context.Background()
	c := ec2.NewFromConfig(moto.AWSConfig())
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web-public"), Description: aws.String("ssh from anywhere")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SecurityGroupIds: []string{aws.ToString(sg.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	ident, err := sts.NewFromConfig(moto.AWSConfig()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.ToString(run.Instances[0].InstanceId)
	swap := strings.NewReplacer("i-0a1b2c3d4e5f60718", inst, "sg-0c0ffee0ddba11c0f", aws.ToString(sg.GroupId), "111122223333", aws.ToString(ident.Account))
	dir := t.TempDir()
	var inputs []string
	for _, name := range []string{"control-ec2.9-consolidated.json", "control-ec2.19-consolidated-sg.json",
		"guardduty-network-port-unusual.json", "guardduty-ssh-bruteforce-target.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "correlate", "testdata", "findings", name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(swap.Replace(string(b))), 0o600); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	for _, tt := range []struct {
		relations string
		fires     bool
	}{
		{fmt.Sprintf("relations: {ec2: {enabled: true, endpoint: %q}}", moto.URL), true},
		{"relations: {ec2: {enabled: false}}", false},
	} {
		cfg := filepath.Join(t.TempDir(), "hubtriage.yaml")
		if err := os.WriteFile(cfg, []byte("rules: [{name: all}]\ncorrelation:\n  "+tt.relations+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--now", "2024-05-20T12:00:00Z"}, inputs...)
		r := execute(t, "", args...)
		fired := false
		for _, d := range r.decisions {
			fired = fired || (d["decision"] == "correlate" && d["rule"] == "ec2-exposed-instance-under-attack" && strings.Contains(fmt.Sprint(d["resource"]), inst))
		}
		if r.code != 0 || fired != tt.fires {
			t.Errorf("%s: exit %d, fired %v, want %v\nstderr: %s", tt.relations, r.code, fired, tt.fires, r.stderr)
		}
	}
}
