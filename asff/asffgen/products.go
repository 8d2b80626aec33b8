package asffgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// target is the kind of resource a finding is about.
type target int

const (
	targetInstance target = iota
	targetAccessKey
	targetBucket
	targetSecurityGroup
	targetTrail
	targetAccount
)

// product is the kind of finding.
type product int

const (
	productGuardDuty product = iota
	productInspector
	productControl
	productMacie
)

// control finding forms.
const (
	formConsolidated = iota // security-control/<id>, Compliance.SecurityControlId
	formFSBP                // legacy per-standard, ProductFields.ControlId
	formCIS                 // legacy CIS 1.2.0, ProductFields.RuleId
)

const (
	tsMillis  = "2006-01-02T15:04:05.000Z07:00"
	tsSeconds = "2006-01-02T15:04:05Z07:00"
)

// account is one AWS account with its resources.
type account struct {
	id       string
	detector string
	pools    map[target][]res
}

// res is one resource of an account.
type res struct {
	id     string // ASFF Resources[].Id
	name   string // short name for titles
	region string
}

// spec is one logical finding; re-imports render the same spec again.
type spec struct {
	product  product
	cat      int
	form     int
	acct     *account
	target   target
	res      res
	id       string
	first    time.Time
	count    int
	resolved bool
	queued   bool   // in the generator's open list
	detail   string // product-specific: object key, API name, remote IP
}

// identity names the one finding a product keeps for one kind of issue on
// one resource, "" when every occurrence is a finding of its own (Macie
// reports each S3 object). GuardDuty aggregates new occurrences of a
// finding type on a resource (and, for API findings, of the API) into the
// same finding Id; Inspector keeps one finding per vulnerability and
// resource; Security Hub one per control, standard and resource.
func (s *spec) identity() string {
	switch s.product {
	case productMacie:
		return ""
	case productGuardDuty:
		if s.target != targetAccessKey {
			return fmt.Sprintf("gd|%s|%d|%s", s.acct.id, s.cat, s.res.id)
		}
		return fmt.Sprintf("gd|%s|%d|%s|%s", s.acct.id, s.cat, s.res.id, s.detail)
	case productInspector:
		return fmt.Sprintf("insp|%s|%d|%s", s.acct.id, s.cat, s.res.id)
	}
	return fmt.Sprintf("ctl|%s|%d|%d|%s", s.acct.id, s.cat, s.form, s.res.id)
}

// reopens reports whether the product reopens the same finding when a
// resolved issue comes back: Inspector reopens a closed vulnerability and a
// control fails again; an archived GuardDuty finding stays archived, and a
// new occurrence is a new finding.
func (s *spec) reopens() bool { return s.product == productInspector || s.product == productControl }

func (g *Generator) newAccount() *account {
	a := &account{id: fmt.Sprintf("%012d", 100000000000+g.rng.Int64N(899999999999)), detector: g.hex(32), pools: map[target][]res{}}
	region := func() string { return g.opt.Regions[g.rng.IntN(len(g.opt.Regions))] }
	for range 8 {
		r, id := region(), "i-0"+g.hex(16)
		a.pools[targetInstance] = append(a.pools[targetInstance], res{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", r, a.id, id), id, r})
	}
	for _, app := range []string{"app-logs", "data-lake", "backups", "web-assets", "exports"} {
		name := fmt.Sprintf("acme-%s-%s", app, a.id)
		a.pools[targetBucket] = append(a.pools[targetBucket], res{"arn:aws:s3:::" + name, name, region()})
	}
	for range 4 {
		key := "AKIA" + fmt.Sprintf("%016X", g.rng.Uint64())
		a.pools[targetAccessKey] = append(a.pools[targetAccessKey], res{"AWS::IAM::AccessKey:" + key, key, region()})
	}
	for range 4 {
		r, id := region(), "sg-0"+g.hex(16)
		a.pools[targetSecurityGroup] = append(a.pools[targetSecurityGroup], res{fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", r, a.id, id), id, r})
	}
	r := region()
	a.pools[targetTrail] = []res{{fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/main", r, a.id), "main", r}}
	a.pools[targetAccount] = []res{{"AWS::::Account:" + a.id, a.id, r}}
	return a
}

// newSpec draws a new finding.
func (g *Generator) newSpec() *spec {
	s := &spec{product: product(g.pick(30, 25, 35, 10)), acct: g.accounts[g.rng.IntN(len(g.accounts))], first: g.now}
	switch s.product {
	case productGuardDuty:
		s.cat = g.rng.IntN(len(guardDutyTypes))
		s.target = guardDutyTypes[s.cat].Target
		s.detail = []string{"ListBuckets", "GetCallerIdentity", "DescribeInstances", "ListAccessKeys"}[g.rng.IntN(4)]
	case productInspector:
		s.cat, s.target = g.rng.IntN(len(cves)), targetInstance
	case productControl:
		s.cat = g.rng.IntN(len(controls))
		s.target = controls[s.cat].Target
		if controls[s.cat].CISRule != "" {
			s.form = g.pick(50, 25, 25)
		} else {
			s.form = g.pick(60, 40)
		}
	case productMacie:
		s.cat, s.target = g.rng.IntN(len(macieTypes)), targetBucket
		s.detail = fmt.Sprintf("%s/%d/part-%05d.csv", []string{"customers", "payroll", "exports", "crm"}[g.rng.IntN(4)], 2020+g.rng.IntN(5), g.rng.IntN(100000))
	}
	pool := s.acct.pools[s.target]
	s.res = pool[g.rng.IntN(len(pool))]
	s.id = g.findingID(s)
	return s
}

func (g *Generator) findingID(s *spec) string {
	r, a := s.res.region, s.acct.id
	switch s.product {
	case productGuardDuty:
		return fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s/finding/%s", r, a, s.acct.detector, g.hex(32))
	case productInspector:
		return fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%s", r, a, g.hex(32))
	case productMacie:
		return fmt.Sprintf("arn:aws:macie2:%s:%s:finding/%s", r, a, g.hex(32))
	}
	c := controls[s.cat]
	switch s.form {
	case formFSBP:
		return fmt.Sprintf("arn:aws:securityhub:%s:%s:subscription/aws-foundational-security-best-practices/v/1.0.0/%s/finding/%s", r, a, c.ID, g.uuid())
	case formCIS:
		return fmt.Sprintf("arn:aws:securityhub:%s:%s:subscription/cis-aws-foundations-benchmark/v/1.2.0/%s/finding/%s", r, a, c.CISRule, g.uuid())
	}
	return fmt.Sprintf("arn:aws:securityhub:%s:%s:security-control/%s/finding/%s", r, a, c.ID, g.uuid())
}

// render builds the finding for s as of the generator's clock.
func (g *Generator) render(s *spec) *finding {
	name := map[product]string{productGuardDuty: "guardduty", productInspector: "inspector", productControl: "securityhub", productMacie: "macie"}[s.product]
	f := &finding{
		SchemaVersion:   "2018-10-08",
		ID:              s.id,
		ProductArn:      fmt.Sprintf("arn:aws:securityhub:%s::product/aws/%s", s.res.region, name),
		Region:          s.res.region,
		AwsAccountID:    s.acct.id,
		FirstObservedAt: s.first.Format(tsMillis),
		LastObservedAt:  g.now.Format(tsMillis),
		CreatedAt:       s.first.Format(tsMillis),
		UpdatedAt:       g.now.Format(tsMillis),
		WorkflowState:   "NEW",
		Workflow:        workflow{Status: "NEW"},
		RecordState:     "ACTIVE",
		ProductFields:   map[string]string{},
	}
	switch s.product {
	case productGuardDuty:
		g.renderGuardDuty(s, f)
	case productInspector:
		g.renderInspector(s, f)
	case productControl:
		g.renderControl(s, f)
	case productMacie:
		g.renderMacie(s, f)
	}
	f.ProductFields["aws/securityhub/ProductName"] = f.ProductName
	f.ProductFields["aws/securityhub/CompanyName"] = f.CompanyName
	return f
}

func (g *Generator) renderGuardDuty(s *spec, f *finding) {
	t := guardDutyTypes[s.cat]
	label := guardDutyLabel(t.Severity)
	f.ProductName, f.CompanyName = "GuardDuty", "Amazon"
	f.GeneratorID = fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s", s.res.region, s.acct.id, s.acct.detector)
	f.Types = []string{t.ASFF}
	// GuardDuty reports observation times to the second.
	f.FirstObservedAt, f.LastObservedAt = s.first.Format(tsSeconds), g.now.Format(tsSeconds)
	f.Severity = severity{Product: t.Severity, Label: label, Normalized: int(t.Severity * 10)}
	arg := s.res.name
	if strings.HasPrefix(t.Title, "API") || strings.HasPrefix(t.Title, "Reconnaissance API") {
		arg = s.detail
	}
	if t.Name == "UnauthorizedAccess:EC2/SSHBruteForce" {
		f.Title = fmt.Sprintf(t.Title, s.count%200+1, s.res.name)
	} else {
		f.Title = fmt.Sprintf(t.Title, arg)
	}
	f.Description = f.Title
	f.ProductFields["aws/guardduty/service/archived"] = strconv.FormatBool(s.resolved)
	f.ProductFields["aws/guardduty/service/count"] = strconv.Itoa(s.count + 1)
	f.ProductFields["aws/guardduty/type"] = t.Name
	f.Resources = []resource{g.resourceOf(s)}
	if s.resolved {
		f.RecordState = "ARCHIVED"
	}
}

func (g *Generator) renderInspector(s *spec, f *finding) {
	c := cves[s.cat]
	f.ProductName, f.CompanyName = "Inspector", "Amazon"
	f.GeneratorID = "AWSInspector"
	f.Types = []string{"Software and Configuration Checks/Vulnerabilities/CVE"}
	f.Severity = severity{Label: c.Label, Normalized: normalizedFor(c.Label)}
	f.Title = c.ID + " - " + c.Package
	f.Description = fmt.Sprintf("%s in %s %s.", c.ID, c.Package, c.Version)
	status := "ACTIVE"
	if s.resolved {
		status, f.RecordState = "CLOSED", "ARCHIVED"
	}
	f.ProductFields["aws/inspector/FindingStatus"] = status
	f.ProductFields["aws/inspector/ProductVersion"] = "2"
	f.ProductFields["aws/inspector/inspectorScore"] = strconv.FormatFloat(c.Score, 'f', 1, 64)
	f.Resources = []resource{g.resourceOf(s)}
	f.Vulnerabilities = []vulnerability{{
		ID:                 c.ID,
		VulnerablePackages: []pkg{{Name: c.Package, Version: c.Version, Epoch: "0", PackageManager: c.Manager, FixedInVersion: c.Fixed}},
		Cvss:               []cvss{{Version: "3.1", BaseScore: c.Score, BaseVector: c.Vector, Source: "NVD"}},
		Vendor:             vendor{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + c.ID, VendorSeverity: c.Label},
		FixAvailable:       "YES",
	}}
}

func (g *Generator) renderControl(s *spec, f *finding) {
	c := controls[s.cat]
	f.ProductName, f.CompanyName = "Security Hub", "AWS"
	f.Types = []string{"Software and Configuration Checks/Industry and Regulatory Standards"}
	label, status := c.Label, "FAILED"
	if s.resolved {
		label, status = "INFORMATIONAL", "PASSED"
		f.Workflow.Status = "RESOLVED"
	}
	f.Severity = severity{Label: label, Normalized: normalizedFor(label), Original: label}
	f.Title = c.Title
	f.Description = "This control checks whether " + strings.ToLower(c.Title[:1]) + c.Title[1:] + "."
	f.Compliance = &compliance{Status: status}
	url := "https://docs.aws.amazon.com/console/securityhub/" + c.ID + "/remediation"
	switch s.form {
	case formConsolidated:
		f.GeneratorID = "security-control/" + c.ID
		f.Compliance.SecurityControlID = c.ID
	case formFSBP:
		f.GeneratorID = "aws-foundational-security-best-practices/v/1.0.0/" + c.ID
		f.ProductFields["StandardsArn"] = "arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0"
		f.ProductFields["ControlId"] = c.ID
	case formCIS:
		f.GeneratorID = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/" + c.CISRule
		f.Title = c.CISRule + " " + c.Title
		f.ProductFields["StandardsGuideArn"] = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
		f.ProductFields["RuleId"] = c.CISRule
		url = "https://docs.aws.amazon.com/console/securityhub/standards-cis-" + c.CISRule + "/remediation"
	}
	f.Remediation = &remediation{Recommendation: recommendation{Text: "Consult the Security Hub controls reference.", URL: url}}
	r := g.resourceOf(s)
	r.Type = c.Resource
	f.Resources = []resource{r}
}

func (g *Generator) renderMacie(s *spec, f *finding) {
	t := macieTypes[s.cat]
	f.ProductName, f.CompanyName = "Macie", "Amazon"
	f.GeneratorID = "aws/macie"
	f.Types = []string{t.ASFF}
	f.Severity = severity{Label: t.Label, Normalized: t.Norm}
	f.Title = "The S3 object contains " + t.What + "."
	f.Description = fmt.Sprintf("The object %s in bucket %s contains %s.", s.detail, s.res.name, t.What)
	f.ProductFields["aws/macie/type"] = t.Name
	f.ProductFields["aws/macie/sensitiveData/totalCount"] = strconv.Itoa(1 + len(s.detail)%97)
	if s.resolved {
		f.Workflow.Status = "RESOLVED"
	}
	f.Resources = []resource{
		{Type: "AwsS3Bucket", ID: s.res.id, Partition: "aws", Region: s.res.region},
		{Type: "AwsS3Object", ID: s.res.id + "/" + s.detail, Partition: "aws", Region: s.res.region},
	}
}

// resourceOf returns the ASFF resource of s's target, with typical details.
func (g *Generator) resourceOf(s *spec) resource {
	r := resource{ID: s.res.id, Partition: "aws", Region: s.res.region}
	switch s.target {
	case targetInstance:
		r.Type = "AwsEc2Instance"
		r.Tags = map[string]string{"Name": "web-" + s.res.name[len(s.res.name)-4:]}
		r.Details = map[string]any{"AwsEc2Instance": map[string]any{"Type": "m5.large", "VpcId": "vpc-0a1b2c3d"}}
	case targetAccessKey:
		r.Type = "AwsIamAccessKey"
		r.Details = map[string]any{"AwsIamAccessKey": map[string]any{"PrincipalName": "deploy-bot", "PrincipalType": "IAMUser"}}
	case targetBucket:
		r.Type = "AwsS3Bucket"
	case targetSecurityGroup:
		r.Type = "AwsEc2SecurityGroup"
	case targetTrail:
		r.Type = "AwsCloudTrailTrail"
	case targetAccount:
		r.Type = "AwsAccount"
	}
	return r
}
