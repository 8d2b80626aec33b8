package correlate

import (
	"regexp"
	"strings"

	"hubtriage/asff"
)

// Resource types hubtriage normalises.
const (
	typeInstance      = "AwsEc2Instance"
	typeSecurityGroup = "AwsEc2SecurityGroup"
	typeBucket        = "AwsS3Bucket"
	typeObject        = "AwsS3Object"
)

// Ref is a resource as correlation sees it: its type and a normalised Name
// under which every spelling of the same resource meets.
type Ref struct {
	// Type is the ASFF resource type (AwsEc2Instance, AwsS3Bucket, ...).
	Type string
	// Name is the normalised id: i-0123456789abcdef0 for an instance,
	// the bucket name, sg-..., or the Id as written for other types.
	Name string
	// Partition, Region and Account are what the finding says about the
	// resource (from its ARN, else the resource entry, else the finding).
	Partition, Region, Account string
}

// Key is the index key of the resource: Type + "/" + Name.
func (r Ref) Key() string { return r.Type + "/" + r.Name }

// ARN is the resource's canonical ARN when hubtriage can build one, else
// its Name.
func (r Ref) ARN() string {
	part := firstNonEmpty(r.Partition, "aws")
	switch r.Type {
	case typeBucket:
		return "arn:" + part + ":s3:::" + r.Name
	case typeInstance, typeSecurityGroup:
		if r.Region == "" || r.Account == "" {
			return r.Name
		}
		kind := "instance/"
		if r.Type == typeSecurityGroup {
			kind = "security-group/"
		}
		return "arn:" + part + ":ec2:" + r.Region + ":" + r.Account + ":" + kind + r.Name
	}
	return r.Name
}

var (
	// Instance ids are i- followed by 8 (before 2016) or 17 hex digits;
	// the sample implementation compared only the last 10 characters.
	instanceRE = regexp.MustCompile(`(?i)(?:^|:instance/|^instance/)(i-(?:[0-9a-f]{17}|[0-9a-f]{8}))$`)
	sgRE       = regexp.MustCompile(`(?i)(?:^|:security-group/|^security-group/)(sg-(?:[0-9a-f]{17}|[0-9a-f]{8}))$`)
	s3ArnRE    = regexp.MustCompile(`^arn:[a-z-]*:s3:::([^/]+)(/.*)?$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	accountRE  = regexp.MustCompile(`^\d{12}$`)
)

// refOf normalises one resource of f. ok is false for an empty Id.
func refOf(r asff.Resource, f *asff.Finding) (Ref, bool) {
	id := strings.TrimSpace(r.ID)
	if id == "" {
		return Ref{}, false
	}
	ref := Ref{Type: r.Type, Name: id, Partition: r.Partition}
	switch {
	case instanceRE.MatchString(id):
		ref.Type, ref.Name = typeInstance, strings.ToLower(instanceRE.FindStringSubmatch(id)[1])
	case sgRE.MatchString(id):
		ref.Type, ref.Name = typeSecurityGroup, strings.ToLower(sgRE.FindStringSubmatch(id)[1])
	case s3ArnRE.MatchString(id):
		ref.Type, ref.Name = typeBucket, s3ArnRE.FindStringSubmatch(id)[1]
	case r.Type == typeBucket:
		ref.Name = id // a bare bucket name
	}
	arnPart, arnRegion, arnAccount := arnFields(id)
	ref.Partition = firstNonEmpty(arnPart, r.Partition)
	ref.Region = firstNonEmpty(arnRegion, r.Region, f.Region)
	ref.Account = firstNonEmpty(arnAccount, f.AwsAccountID)
	return ref, true
}

// arnFields picks partition, region and account out of an ARN, tolerating
// the malformed ARNs some products write (GuardDuty's "arn:aws::ec2:...").
func arnFields(s string) (partition, region, account string) {
	if !strings.HasPrefix(s, "arn:") {
		return "", "", ""
	}
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return "", "", ""
	}
	partition = parts[1]
	for _, p := range parts[2 : len(parts)-1] {
		switch {
		case region == "" && regionRE.MatchString(p):
			region = p
		case account == "" && accountRE.MatchString(p):
			account = p
		}
	}
	return partition, region, account
}

// refsOf normalises every resource of f, each key once, in order.
func refsOf(f *asff.Finding) []Ref {
	refs := make([]Ref, 0, len(f.Resources))
	for _, r := range f.Resources {
		ref, ok := refOf(r, f)
		if !ok || containsKey(refs, ref.Key()) {
			continue
		}
		refs = append(refs, ref)
	}
	return refs
}

func containsKey(refs []Ref, key string) bool {
	for _, r := range refs {
		if r.Key() == key {
			return true
		}
	}
	return false
}

// ParseResource normalises a resource written by a user (an ARN, a bare
// instance or security group id, or "Type/Name") into a Ref, for rule tests
// and the CLI. A bare name of no recognisable form is taken as of type
// defaultType.
func ParseResource(s, defaultType string) Ref {
	if t, name, ok := strings.Cut(s, "/"); ok && typeNameRE.MatchString(t) && !strings.HasPrefix(s, "arn:") {
		if ref, ok := refOf(asff.Resource{Type: t, ID: name}, &asff.Finding{}); ok {
			return ref
		}
	}
	ref, _ := refOf(asff.Resource{Type: defaultType, ID: s}, &asff.Finding{})
	return ref
}
