package correlate

import (
	"bytes"
	"slices"
	"strings"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
)

// supportedVia reports whether hubtriage extracts the relation a via
// condition needs: today, the security groups attached to an instance.
func supportedVia(join, via string) bool {
	return join == typeInstance && via == typeSecurityGroup
}

// relation says that an instance uses a security group.
type relation struct {
	instance, group Ref
}

// isPfGroup reports whether a ProductFields key is a security group id that
// GuardDuty flattened out of instanceDetails, like
// .../resource/instanceDetails/networkInterfaces/0/securityGroups/0/groupId
// (ASCII case-insensitive).
func isPfGroup(k string) bool {
	rest, ok := cutSuffixFold(k, "/groupId")
	if !ok {
		return false
	}
	if rest, ok = cutDigits(rest); !ok {
		return false
	}
	if rest, ok = cutSuffixFold(rest, "/securityGroups/"); !ok {
		return false
	}
	if rest, ok = cutDigits(rest); !ok {
		return false
	}
	return hasSuffixFold(rest, "networkInterfaces/")
}

// isPfInstance reports whether a ProductFields key is GuardDuty's
// flattened instanceDetails/instanceId.
func isPfInstance(k string) bool { return hasSuffixFold(k, "instanceDetails/instanceId") }

func cutSuffixFold(s, suffix string) (string, bool) {
	if !hasSuffixFold(s, suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// cutDigits removes the (non-empty) run of digits ending s.
func cutDigits(s string) (string, bool) {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	return s[:i], i < len(s)
}

// Inspector Classic network reachability findings name the instance and the
// security group that opens it.
const (
	pfInspectorGroup    = "attributes/SECURITY_GROUP"
	pfInspectorInstance = "attributes/INSTANCE_ID"
)

// mayRelate reports whether f can carry a relation (see relationsOf),
// cheaply: it names an instance, a security group or a network interface,
// is from GuardDuty (whose flattened instance details may name both), or
// carries Inspector Classic's reachability attributes.
func mayRelate(f *asff.Finding) bool {
	for _, r := range f.Resources {
		switch r.Type {
		case typeInstance, typeSecurityGroup, "AwsEc2NetworkInterface":
			return true
		case typeBucket, "AwsS3Object", "AwsIamAccessKey", "AwsIamRole", "AwsIamUser", "AwsAccount":
			continue // (their ids are ARNs or names, never instance or group ids)
		}
		if _, ok := ec2ID(r.ID, "i-", "instance/"); ok {
			return true
		}
		if _, ok := ec2ID(r.ID, "sg-", "security-group/"); ok {
			return true
		}
	}
	if strings.Contains(f.ProductArn, "/guardduty") {
		return true
	}
	_, group := f.ProductFields[pfInspectorGroup]
	_, inst := f.ProductFields[pfInspectorInstance]
	return group || inst
}

// relationsOf returns the instance-to-security-group relations f carries:
// security groups in an instance resource's Details (SecurityGroups or
// NetworkInterfaces[].SecurityGroups), network interface resources with an
// attached instance, GuardDuty's flattened instanceDetails ProductFields,
// Inspector Classic reachability attributes, and findings that list both
// an instance and security groups as resources.
func relationsOf(f *asff.Finding, refs []Ref) []relation {
	var instances, groups []Ref
	var out []relation
	for i, r := range f.Resources {
		switch r.Type {
		case typeInstance:
			groups = appendRefs(groups, f, typeSecurityGroup, detailGroups(r.Details, "AwsEc2Instance")...)
		case "AwsEc2NetworkInterface":
			inst, gs := eniRelation(r.Details)
			for _, g := range appendRefs(nil, f, typeSecurityGroup, gs...) {
				for _, in := range appendRefs(nil, f, typeInstance, inst) {
					out = append(out, relation{in, withResource(g, f.Resources[i])})
				}
			}
		}
	}
	for _, r := range refs {
		switch r.Type {
		case typeInstance:
			instances = appendRef(instances, r)
		case typeSecurityGroup:
			groups = appendRef(groups, r)
		}
	}
	instances, groups = productFieldRelations(f, instances, groups)
	for _, in := range instances {
		for _, g := range groups {
			out = append(out, relation{in, g})
		}
	}
	return out
}

// productFieldRelations adds the instances and groups named in ProductFields.
func productFieldRelations(f *asff.Finding, instances, groups []Ref) ([]Ref, []Ref) {
	var gs, is []string // keys, in key order for a stable result
	for k := range f.ProductFields {
		switch {
		case isPfGroup(k) || k == pfInspectorGroup:
			gs = append(gs, k)
		case isPfInstance(k) || k == pfInspectorInstance:
			is = append(is, k)
		}
	}
	slices.Sort(gs)
	slices.Sort(is)
	for _, k := range gs {
		groups = appendRefs(groups, f, typeSecurityGroup, f.ProductFields[k])
	}
	for _, k := range is {
		instances = appendRefs(instances, f, typeInstance, f.ProductFields[k])
	}
	return instances, groups
}

// appendRefs normalises ids of type typ and appends those of that type.
func appendRefs(refs []Ref, f *asff.Finding, typ string, ids ...string) []Ref {
	for _, id := range ids {
		if ref, ok := refOf(asff.Resource{Type: typ, ID: id}, f); ok && ref.Type == typ {
			refs = appendRef(refs, ref)
		}
	}
	return refs
}

func appendRef(refs []Ref, r Ref) []Ref {
	if containsKey(refs, r) {
		return refs
	}
	return append(refs, r)
}

func withResource(r Ref, res asff.Resource) Ref {
	r.Region = firstNonEmpty(res.Region, r.Region)
	return r
}

// detailGroups reads security group ids under Details[kind]: SecurityGroups
// (strings or {GroupId}) and NetworkInterfaces[].SecurityGroups.
func detailGroups(details []byte, kind string) []string {
	if len(details) == 0 || !bytes.Contains(details, []byte("roup")) {
		return nil
	}
	var d map[string]struct {
		SecurityGroups    []groupRef `json:"SecurityGroups"`
		NetworkInterfaces []struct {
			SecurityGroups []groupRef `json:"SecurityGroups"`
		} `json:"NetworkInterfaces"`
	}
	if json.Unmarshal(details, &d) != nil {
		return nil
	}
	x := d[kind]
	var out []string
	for _, g := range x.SecurityGroups {
		out = append(out, g.id)
	}
	for _, ni := range x.NetworkInterfaces {
		for _, g := range ni.SecurityGroups {
			out = append(out, g.id)
		}
	}
	return out
}

// eniRelation reads an AwsEc2NetworkInterface's attached instance and groups.
func eniRelation(details []byte) (string, []string) {
	var d struct {
		ENI struct {
			Attachment struct {
				InstanceID string `json:"InstanceId"`
			} `json:"Attachment"`
			SecurityGroups []groupRef `json:"SecurityGroups"`
		} `json:"AwsEc2NetworkInterface"`
	}
	if len(details) == 0 || json.Unmarshal(details, &d) != nil || d.ENI.Attachment.InstanceID == "" {
		return "", nil
	}
	var gs []string
	for _, g := range d.ENI.SecurityGroups {
		gs = append(gs, g.id)
	}
	return d.ENI.Attachment.InstanceID, gs
}

// groupRef is a security group written as "sg-..." or {"GroupId": "sg-..."}.
type groupRef struct{ id string }

func (g *groupRef) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		g.id = s
		return nil
	}
	var o struct {
		GroupID string `json:"GroupId"`
	}
	if json.Unmarshal(b, &o) == nil {
		g.id = o.GroupID
	}
	return nil
}
