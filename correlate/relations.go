package correlate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
// (asff.Resource.SecurityGroups: GuardDuty's own findings; an OCSF
// resource's data.network_interfaces[].security_groups[]), network
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
			groups = appendRefs(groups, f, typeSecurityGroup, ocsfGroups(r.Data)...)
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

// ocsfGroups reads the security group ids of an OCSF instance resource's
// data (GuardDuty's instance details in OCSF's snake_case:
// network_interfaces[].security_groups[].group_id).
func ocsfGroups(data []byte) []string {
	if len(data) == 0 || !bytes.Contains(data, []byte("security_groups")) {
		return nil
	}
	var d struct {
		NetworkInterfaces []struct {
			SecurityGroups []struct {
				GroupID string `json:"group_id"`
			} `json:"security_groups"`
		} `json:"network_interfaces"`
	}
	if json.Unmarshal(data, &d) != nil {
		return nil
	}
	var out []string
	for _, ni := range d.NetworkInterfaces {
		for _, g := range ni.SecurityGroups {
			out = append(out, g.GroupID)
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

// GroupResolver tells which security groups an instance uses, for
// instances and groups no finding related (see Options.Groups).
//
// InstanceGroups returns the security group ids (sg-...) attached to the
// instance now; GroupInstances the ids (i-...) of the instances the group
// is attached to now; both look in the resource's Account and Region. A
// resource that does not exist, or that the resolver may not see, has none
// and no error (the resolver reports it itself); an error means the answer
// is unknown for now (throttling, network) and fails the finding's
// observation, so it is retried. Both are safe for concurrent use.
type GroupResolver interface {
	InstanceGroups(ctx context.Context, instance Ref) ([]string, error)
	GroupInstances(ctx context.Context, group Ref) ([]string, error)
}

// DefaultGroupsTTL is how long a relation a GroupResolver gave counts.
const DefaultGroupsTTL = time.Hour

// resolveGroups asks Options.Groups, for each touched instance that has
// no known security group, which groups it uses, and for each touched
// security group that has no known instance, which instances use it, and
// records the answers as relations for GroupsTTL; a touched resource that
// gained a relation stays touched, so the rules are evaluated with it
// whichever of the instance's and the group's findings came first. Only
// when a rule joined on instances has a condition via their groups.
func (e *Engine) resolveGroups(ctx context.Context, touched refSet, now time.Time) error {
	if e.opt.Groups == nil || !e.needsGroups() {
		return nil
	}
	for _, ref := range touched {
		if ref.Type != typeInstance && ref.Type != typeSecurityGroup {
			continue
		}
		if err := e.resolveOne(ctx, ref, now); err != nil {
			return err
		}
	}
	return nil
}

// resolveOne resolves the other side of one instance or security group
// when none is known.
func (e *Engine) resolveOne(ctx context.Context, ref Ref, now time.Time) error {
	other, prefix, kind, ask := typeSecurityGroup, "sg-", "security-group/", e.opt.Groups.InstanceGroups
	if ref.Type == typeSecurityGroup {
		other, prefix, kind, ask = typeInstance, "i-", "instance/", e.opt.Groups.GroupInstances
	}
	related, err := readRelated(ctx, e.idx, ref.Key(), now)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(related, func(r Ref) bool { return r.Type == other }) {
		return nil
	}
	ids, err := ask(ctx, ref)
	if err != nil {
		return fmt.Errorf("look up the resources related to %s: %w", ref.Key(), err)
	}
	for _, id := range ids {
		name, ok := ec2ID(strings.TrimSpace(id), prefix, kind)
		if !ok {
			continue
		}
		peer := Ref{Type: other, Name: name, Partition: ref.Partition, Region: ref.Region, Account: ref.Account}
		rel := relation{ref, peer}
		if ref.Type == typeSecurityGroup {
			rel = relation{peer, ref}
		}
		if _, err := putRelation(ctx, e.idx, rel, now.Add(e.opt.GroupsTTL), now); err != nil {
			return err
		}
	}
	return nil
}

// needsGroups reports whether a rule joined on instances has a condition
// via their security groups.
func (e *Engine) needsGroups() bool {
	return slices.ContainsFunc(e.rules, func(r *Rule) bool { return r.Join == typeInstance && r.HasVia(typeSecurityGroup) })
}
