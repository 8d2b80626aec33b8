// Package deploy holds the SAM template and the build of the Lambda
// package; its tests lint the template and check its contract with the
// code (table layout, permissions, event routing).
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// template is the parsed template with short-form intrinsics (!Ref, !Sub,
// ...) turned into their long form ({"Ref": ...}, {"Fn::Sub": ...}).
func template(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	doc, ok := longForm(root.Content[0]).(map[string]any)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	return doc
}

func longForm(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = longForm(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, longForm(c))
		}
		v = s
	case yaml.AliasNode:
		return longForm(n.Alias)
	default:
		v = n.Value
	}
	switch tag := n.Tag; {
	case tag == "!Ref":
		return map[string]any{"Ref": n.Value}
	case tag == "!GetAtt":
		return map[string]any{"Fn::GetAtt": strings.SplitN(n.Value, ".", 2)}
	case strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!"):
		name := "Fn::" + strings.TrimPrefix(tag, "!")
		if tag == "!Condition" {
			name = "Condition"
		}
		return map[string]any{name: v}
	}
	return v
}

func resources(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for name, r := range doc["Resources"].(map[string]any) {
		out[name] = r.(map[string]any)
	}
	return out
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

// branches expands Fn::If into both branches and drops AWS::NoValue, so a
// check sees every statement any parameter choice can produce.
func branches(v any) []any {
	m, ok := v.(map[string]any)
	if !ok {
		return []any{v}
	}
	if ref, ok := m["Ref"]; ok && ref == "AWS::NoValue" {
		return nil
	}
	if args, ok := m["Fn::If"].([]any); ok && len(args) == 3 {
		return append(branches(args[1]), branches(args[2])...)
	}
	return []any{v}
}

func list(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	return []any{v}
}

// statement is one IAM statement with its resources already expanded.
type statement struct {
	sid       string
	actions   []string
	resources []any
	condition any
}

func roleStatements(t *testing.T, role map[string]any) []statement {
	t.Helper()
	var out []statement
	for _, p := range props(role)["Policies"].([]any) {
		doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
		for _, raw := range doc["Statement"].([]any) {
			for _, s := range branches(raw) {
				sm := s.(map[string]any)
				if sm["Effect"] != "Allow" {
					t.Errorf("statement %v: only Allow statements expected", sm)
				}
				st := statement{sid: fmt.Sprint(sm["Sid"]), condition: sm["Condition"]}
				for _, a := range list(sm["Action"]) {
					st.actions = append(st.actions, a.(string))
				}
				for _, r := range branches(sm["Resource"]) {
					st.resources = append(st.resources, list(r)...)
				}
				out = append(out, st)
			}
		}
	}
	return out
}

func TestTemplateIsLintClean(t *testing.T) {
	lint := findCfnLint(t)
	for _, file := range []string{"template.yaml", "relations-role.yaml"} {
		cmd := exec.Command(lint, "--include-checks", "I", "--", file)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("cfn-lint %s: %v\n%s", file, err, out)
		}
	}
}

// findCfnLint finds cfn-lint on PATH or through pyenv; without it the test
// is skipped, or fails under CI / HUBTRIAGE_REQUIRE_MOTO.
func findCfnLint(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("cfn-lint"); err == nil {
		return p
	}
	if out, err := exec.Command("pyenv", "which", "cfn-lint").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" {
			return p
		}
	}
	msg := "cfn-lint not found: pip install cfn-lint"
	if os.Getenv("CI") != "" || os.Getenv("HUBTRIAGE_REQUIRE_MOTO") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestRoleIsLeastPrivilege(t *testing.T) {
	res := resources(t, template(t))
	stmts := roleStatements(t, res["FunctionRole"])
	allowed := map[string]bool{
		"logs:CreateLogStream": true, "logs:PutLogEvents": true,
		"dynamodb:GetItem": true, "dynamodb:PutItem": true, "dynamodb:UpdateItem": true,
		"dynamodb:DeleteItem": true, "dynamodb:Query": true, "dynamodb:Scan": true,
		"securityhub:GetFindings": true, "securityhub:BatchImportFindings": true,
		"ses:SendEmail": true, "ssm:GetParameter": true, "secretsmanager:GetSecretValue": true,
		"sqs:SendMessage": true,
		// correlation.relations.ec2, only with Ec2Relations (see TestEc2RelationsPermissions)
		"ec2:DescribeInstances": true, "sts:AssumeRole": true,
	}
	var securityhub []string
	for _, s := range stmts {
		if s.sid == "DescribeInstances" || s.sid == "AssumeRelationsRole" {
			continue // their wildcards are checked by TestEc2RelationsPermissions
		}
		for _, a := range s.actions {
			if !allowed[a] || strings.Contains(a, "*") {
				t.Errorf("statement %s grants %s, which the function does not need", s.sid, a)
			}
			if strings.HasPrefix(a, "securityhub:") {
				securityhub = append(securityhub, a)
			}
		}
		if len(s.resources) == 0 {
			t.Errorf("statement %s has no resource", s.sid)
		}
		for _, r := range s.resources {
			if str, ok := r.(string); ok && strings.Contains(str, "*") {
				t.Errorf("statement %s: wildcard resource %q", s.sid, str)
			}
			if m, ok := r.(map[string]any); ok && strings.Contains(fmt.Sprint(m["Fn::Sub"]), "*") {
				t.Errorf("statement %s: wildcard resource %q", s.sid, fmt.Sprint(m["Fn::Sub"]))
			}
		}
	}
	sort.Strings(securityhub)
	if fmt.Sprint(securityhub) != "[securityhub:BatchImportFindings securityhub:GetFindings]" {
		t.Errorf("Security Hub actions %v, want exactly GetFindings and BatchImportFindings", securityhub)
	}
	checks := map[string]func(statement) error{
		"dynamodb:":       onlyResource(map[string]any{"Fn::GetAtt": []string{"StateTable", "Arn"}}),
		"logs:":           onlyResource(map[string]any{"Fn::GetAtt": []string{"LogGroup", "Arn"}}),
		"sqs:":            onlyResource(map[string]any{"Fn::GetAtt": []string{"DeadLetterQueue", "Arn"}}),
		"secretsmanager:": onlyResource(map[string]any{"Ref": "SmtpPasswordSecretArn"}),
		"ssm:":            subResources(":parameter${ConfigParameterName}"),
		"ses:": func(s statement) error {
			if err := subResources(":identity/${SesIdentity}", ":configuration-set/${SesConfigurationSet}")(s); err != nil {
				return err
			}
			c := fmt.Sprint(s.condition)
			if !strings.Contains(c, "ses:FromAddress") || !strings.Contains(c, "SenderAddress") {
				return fmt.Errorf("ses:SendEmail must be limited to the sender address, condition %v", s.condition)
			}
			return nil
		},
	}
	for _, s := range stmts {
		for prefix, check := range checks {
			if strings.HasPrefix(s.actions[0], prefix) {
				if err := check(s); err != nil {
					t.Errorf("statement %s: %v", s.sid, err)
				}
			}
		}
	}
}

// TestEc2RelationsPermissions: ec2:DescribeInstances (which has no
// resource-level permissions) and sts:AssumeRole on the one named role are
// granted only when Ec2Relations is "true" (and a role name is given).
func TestEc2RelationsPermissions(t *testing.T) {
	tpl := template(t)
	res := resources(t, tpl)
	policy := props(res["FunctionRole"])["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
	conds := map[string]string{}
	for _, raw := range policy["Statement"].([]any) {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		if args, ok := m["Fn::If"].([]any); ok {
			if st, ok := args[1].(map[string]any); ok {
				conds[fmt.Sprint(st["Sid"])] = fmt.Sprint(args[0])
			}
		}
	}
	if conds["DescribeInstances"] != "HasEc2Relations" || conds["AssumeRelationsRole"] != "HasEc2RelationsRole" {
		t.Errorf("statements guarded by %v, want DescribeInstances by HasEc2Relations and AssumeRelationsRole by HasEc2RelationsRole", conds)
	}
	for _, s := range roleStatements(t, res["FunctionRole"]) {
		switch s.sid {
		case "DescribeInstances":
			if fmt.Sprint(s.actions) != "[ec2:DescribeInstances]" || fmt.Sprint(s.resources) != "[*]" {
				t.Errorf("DescribeInstances grants %v on %v", s.actions, s.resources)
			}
		case "AssumeRelationsRole":
			m, _ := s.resources[0].(map[string]any)
			if fmt.Sprint(s.actions) != "[sts:AssumeRole]" || len(s.resources) != 1 ||
				m["Fn::Sub"] != "arn:${AWS::Partition}:iam::*:role/${Ec2RelationsRoleName}" {
				t.Errorf("AssumeRelationsRole grants %v on %v, want sts:AssumeRole on the named role only", s.actions, s.resources)
			}
		}
	}
}

// onlyResource requires every resource of the statement to be want.
func onlyResource(want any) func(statement) error {
	return func(s statement) error {
		for _, r := range s.resources {
			if fmt.Sprint(r) != fmt.Sprint(want) {
				return fmt.Errorf("resource %v, want only %v", r, want)
			}
		}
		return nil
	}
}

// subResources requires every resource to be a Fn::Sub ARN in this
// account and region ending in one of suffixes.
func subResources(suffixes ...string) func(statement) error {
	return func(s statement) error {
		for _, r := range s.resources {
			m, _ := r.(map[string]any)
			sub, _ := m["Fn::Sub"].(string)
			ok := strings.Contains(sub, ":${AWS::Region}:${AWS::AccountId}:")
			matched := false
			for _, suf := range suffixes {
				matched = matched || strings.HasSuffix(sub, suf)
			}
			if !ok || !matched {
				return fmt.Errorf("resource %v, want an ARN of this account ending in one of %v", r, suffixes)
			}
		}
		return nil
	}
}

func TestFunctionAndEventRouting(t *testing.T) {
	res := resources(t, template(t))
	fn := props(res["Function"])
	if fn["Runtime"] != "provided.al2023" || fmt.Sprint(fn["Architectures"]) != "[arm64]" || fn["Handler"] != "bootstrap" {
		t.Errorf("function runtime %v %v %v, want provided.al2023 arm64 bootstrap", fn["Runtime"], fn["Architectures"], fn["Handler"])
	}
	if fn["CodeUri"] != "build/hubtriage-lambda.zip" {
		t.Errorf("CodeUri %v, want the Makefile's build/hubtriage-lambda.zip", fn["CodeUri"])
	}
	eic := fn["EventInvokeConfig"].(map[string]any)
	onFailure := eic["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)
	if fmt.Sprint(onFailure["Destination"]) != fmt.Sprint(map[string]any{"Fn::GetAtt": []string{"DeadLetterQueue", "Arn"}}) {
		t.Errorf("async failures go to %v, want the dead-letter queue", onFailure["Destination"])
	}
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	for _, name := range []string{"HUBTRIAGE_DYNAMODB_TABLE", "HUBTRIAGE_CONFIG_SSM", "HUBTRIAGE_SECRET_SMTP_PASSWORD"} {
		if _, ok := env[name]; !ok {
			t.Errorf("function environment lacks %s (read by package lambda)", name)
		}
	}

	dlqSources := fmt.Sprint(props(res["DeadLetterQueuePolicy"])["PolicyDocument"])
	schedules, patterns := 0, 0
	for name, r := range res {
		if r["Type"] != "AWS::Events::Rule" {
			continue
		}
		p := props(r)
		if _, ok := p["ScheduleExpression"]; ok {
			schedules++
		}
		if _, ok := p["EventPattern"]; ok {
			patterns++
		}
		for _, target := range p["Targets"].([]any) {
			tg := target.(map[string]any)
			if fmt.Sprint(tg["Arn"]) != fmt.Sprint(map[string]any{"Fn::GetAtt": []string{"Function", "Arn"}}) || tg["DeadLetterConfig"] == nil {
				t.Errorf("rule %s: target %v, want the function with a dead-letter queue", name, tg)
			}
		}
		if !hasPermission(res, name) {
			t.Errorf("rule %s may not invoke the function: no AWS::Lambda::Permission with its ARN", name)
		}
		if arn := fmt.Sprint(map[string]any{"Fn::GetAtt": []string{name, "Arn"}}); !strings.Contains(dlqSources, arn) {
			t.Errorf("rule %s may not dead-letter: the queue policy's aws:SourceArn lacks %s", name, arn)
		}
	}
	if schedules != 1 || patterns < 2 {
		t.Errorf("%d schedule rules and %d pattern rules, want 1 and at least 2 (findings, custom action)", schedules, patterns)
	}
	logs := props(res["LogGroup"])
	if logs["RetentionInDays"] == nil || fmt.Sprint(fn["LoggingConfig"].(map[string]any)["LogGroup"]) != fmt.Sprint(map[string]any{"Ref": "LogGroup"}) {
		t.Error("the function must log to the template's log group, which must have a retention")
	}
	if res["SenderIdentity"]["Type"] != "AWS::SES::EmailIdentity" {
		t.Error("no SES email identity")
	}
}

func hasPermission(res map[string]map[string]any, rule string) bool {
	want := fmt.Sprint(map[string]any{"Fn::GetAtt": []string{rule, "Arn"}})
	for _, r := range res {
		if r["Type"] == "AWS::Lambda::Permission" && fmt.Sprint(props(r)["SourceArn"]) == want &&
			props(r)["Principal"] == "events.amazonaws.com" {
			return true
		}
	}
	return false
}

func TestMakefileAndTemplateAgreeOnThePackage(t *testing.T) {
	b, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	for _, want := range []string{"hubtriage-lambda.zip", "GOOS=linux GOARCH=arm64", "-tags lambda.norpc", "./cmd/hubtriage-lambda"} {
		if !strings.Contains(mk, want) {
			t.Errorf("Makefile does not mention %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join("mkzip", "main.go")); err != nil {
		t.Error(err)
	}
}
