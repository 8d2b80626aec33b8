package correlate

import (
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

// Inspector Classic network reachability findings name the instance and the
// security group that opens it.
const (
	pfInspectorGroup    = "attributes/SECURITY_GROUP"
	pfInspectorInstance = "attributes/INSTANCE_ID"
)

// mayRelate reports whether f can carry a relation (see relationsOf),
// cheaply: it names an instance, a security group or a network interface,
// or carries Inspector Classic's reachability attributes.
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
	_, group := f.ProductFields[pfInspectorGroup]
	_, inst := f.ProductFields[pfInspectorInstance]
	return group || inst
}

// relationsOf returns the instance-to-security-group relations f carries:
// the security groups the source lists on an instance resource
// (asff.Resource.SecurityGroups: GuardDuty's own findings), network
// interface resources with an attached instance (AwsEc2NetworkInterface
// details), Inspector Classic reachability attributes, and findings that
// list both an instance and security groups as resources.
func relationsOf(f *asff.Finding, refs []Ref) []relation {
	var instances, groups []Ref
	var out []relation
	for i, r := range f.Resources {
		switch r.Type {
		case typeInstance:
			groups = appendRefs(groups, f, typeSecurityGroup, r.SecurityGroups...)
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
	if g, ok := f.ProductFields[pfInspectorGroup]; ok {
		groups = appendRefs(groups, f, typeSecurityGroup, g)
	}
	if in, ok := f.ProductFields[pfInspectorInstance]; ok {
		instances = appendRefs(instances, f, typeInstance, in)
	}
	for _, in := range instances {
		for _, g := range groups {
			out = append(out, relation{in, g})
		}
	}
	return out
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
