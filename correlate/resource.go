package correlate

import (
	"slices"
	"strings"

	"hubtriage/asff"
)

// TypeSecurityGroup is the ASFF type of security groups, the related
// resource of via conditions on instances.
const TypeSecurityGroup = typeSecurityGroup

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

// refOf normalises one resource of f. ok is false for an empty Id.
//
// Recognised, whatever the declared type: an instance id i- followed by 8
// (before 2016) or 17 hex digits, alone, after "instance/" or at the end of
// an ARN's ":instance/" (ASCII case-insensitive; the sample implementation
// compared only the last 10 characters); a security group id sg- likewise
// with "security-group/"; and an S3 ARN, which names its bucket.
func refOf(r asff.Resource, f *asff.Finding) (Ref, bool) {
	id := strings.TrimSpace(r.ID)
	if id == "" {
		return Ref{}, false
	}
	ref := Ref{Type: r.Type, Name: id, Partition: r.Partition}
	if name, ok := ec2ID(id, "i-", "instance/"); ok {
		ref.Type, ref.Name = typeInstance, name
	} else if name, ok := ec2ID(id, "sg-", "security-group/"); ok {
		ref.Type, ref.Name = typeSecurityGroup, name
	} else if name, ok := s3Bucket(id); ok {
		ref.Type, ref.Name = typeBucket, name
	}
	arnPart, arnRegion, arnAccount := arnFields(id)
	ref.Partition = firstNonEmpty(arnPart, r.Partition)
	ref.Region = firstNonEmpty(arnRegion, r.Region, f.Region)
	ref.Account = firstNonEmpty(arnAccount, f.AwsAccountID)
	return ref, true
}

// ec2ID recognises an EC2 id prefix + 8 or 17 hex digits at the end of s,
// either all of s or preceded by kind (e.g. "instance/") that is all the
// rest of s or follows a ':'. It returns the id in lower case.
func ec2ID(s, prefix, kind string) (string, bool) {
	for _, digits := range [2]int{17, 8} {
		n := len(prefix) + digits
		if len(s) < n {
			continue
		}
		id, before := s[len(s)-n:], s[:len(s)-n]
		if !hasPrefixFold(id, prefix) || !isHex(id[len(prefix):]) {
			continue
		}
		if before == "" || strings.EqualFold(before, kind) ||
			(hasSuffixFold(before, kind) && before[len(before)-len(kind)-1] == ':') {
			return strings.ToLower(id), true
		}
	}
	return "", false
}

// s3Bucket returns the bucket an S3 ARN (arn:<partition>:s3:::bucket[/key])
// names.
func s3Bucket(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return "", false
	}
	part, rest, ok := strings.Cut(rest, ":")
	if !ok || !isLowerOrDash(part) {
		return "", false
	}
	rest, ok = strings.CutPrefix(rest, "s3:::")
	if !ok {
		return "", false
	}
	bucket, key, hasKey := strings.Cut(rest, "/")
	if bucket == "" || (hasKey && strings.Contains(key, "\n")) {
		return "", false
	}
	return bucket, true
}

// arnFields picks partition, region and account out of an ARN, tolerating
// the malformed ARNs some products write (GuardDuty's "arn:aws::ec2:..."):
// the region and the account are the first fields between the partition
// and the last field that look like one.
func arnFields(s string) (partition, region, account string) {
	if !strings.HasPrefix(s, "arn:") || strings.Count(s, ":") < 5 {
		return "", "", ""
	}
	rest := s[len("arn:"):]
	partition, rest, _ = strings.Cut(rest, ":")
	for {
		field, more, ok := strings.Cut(rest, ":")
		if !ok { // field is the last one: the resource
			break
		}
		switch {
		case region == "" && isRegion(field):
			region = field
		case account == "" && isAccount(field):
			account = field
		}
		rest = more
	}
	return partition, region, account
}

// isRegion reports whether s looks like an AWS region: two lower-case
// letters, one or more "-word" parts and "-<digit>" (us-gov-west-1).
func isRegion(s string) bool {
	if len(s) < 6 || !isLower(s[0]) || !isLower(s[1]) || s[2] != '-' || !isDigit(s[len(s)-1]) || s[len(s)-2] != '-' {
		return false
	}
	words := s[3 : len(s)-2] // between the first and the last '-'
	if words == "" || words[0] == '-' || words[len(words)-1] == '-' || strings.Contains(words, "--") {
		return false
	}
	return isLowerOrDash(words)
}

// isAccount reports whether s is a 12-digit account id.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i] | 0x20 // ASCII lower case; digits are unchanged
		if !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func isLowerOrDash(s string) bool {
	for i := range len(s) {
		if !isLower(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hasPrefixFold and hasSuffixFold compare ASCII case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	if len(suffix) == 0 {
		return true
	}
	if len(s) < len(suffix) || lower(s[len(s)-1]) != lower(suffix[len(suffix)-1]) {
		return false // (the common case, decided without EqualFold)
	}
	return strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// lower folds an ASCII letter to lower case.
func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// refsOf normalises every resource of f, each key once, in order.
func refsOf(f *asff.Finding) []Ref {
	refs := make([]Ref, 0, len(f.Resources))
	for _, r := range f.Resources {
		ref, ok := refOf(r, f)
		if !ok || containsKey(refs, ref) {
			continue
		}
		refs = append(refs, ref)
	}
	return refs
}

func containsKey(refs []Ref, ref Ref) bool {
	return slices.ContainsFunc(refs, func(r Ref) bool { return sameKey(r, ref) })
}

// sameKey reports whether a.Key() == b.Key() without building the keys.
func sameKey(a, b Ref) bool {
	if a.Type == b.Type {
		return a.Name == b.Name
	}
	if len(a.Type)+len(a.Name) != len(b.Type)+len(b.Name) {
		return false
	}
	at := func(r Ref, i int) byte {
		switch {
		case i < len(r.Type):
			return r.Type[i]
		case i == len(r.Type):
			return '/'
		}
		return r.Name[i-len(r.Type)-1]
	}
	for i := range len(a.Type) + 1 + len(a.Name) {
		if at(a, i) != at(b, i) {
			return false
		}
	}
	return true
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
