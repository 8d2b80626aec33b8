package asff

import (
	stdjson "encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file maps GuardDuty's own findings, as GuardDuty sends them to
// EventBridge (detail-type "GuardDuty Finding", the finding in "detail"),
// into the finding model the way Security Hub's GuardDuty integration does,
// so that an event and its Security Hub copy are one finding: same
// ProductArn and Id (the finding ARN), same ASFF Types, same
// "aws/guardduty/service/..." ProductFields. Unlike the Security Hub copy,
// the instance resource keeps the security groups of its network
// interfaces (Resource.SecurityGroups).
//
// Sources: the event envelope of the GuardDuty User Guide ("Monitoring
// GuardDuty findings with EventBridge"), the finding JSON of the GuardDuty
// GetFindings response syntax, the ASFF type table of "Integration with AWS
// Security Hub" (guardduty_types.tsv, guardDutyASFFType) and the severity levels of "Severity
// levels for GuardDuty findings".

// DetailTypeGuardDuty is the EventBridge detail-type of GuardDuty findings.
const DetailTypeGuardDuty = "GuardDuty Finding"

// maxProductFields is the ASFF limit on ProductFields entries.
const maxProductFields = 50

// gdFinding is the part of a GuardDuty finding hubtriage maps.
type gdFinding struct {
	AccountID   string             `json:"accountId"`
	Region      string             `json:"region"`
	Partition   string             `json:"partition"`
	ID          string             `json:"id"`
	Arn         string             `json:"arn"`
	Type        string             `json:"type"`
	Resource    gdResource         `json:"resource"`
	Service     stdjson.RawMessage `json:"service"`
	Severity    float64            `json:"severity"`
	CreatedAt   string             `json:"createdAt"`
	UpdatedAt   string             `json:"updatedAt"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
}

type gdResource struct {
	ResourceType    string `json:"resourceType"`
	InstanceDetails *struct {
		InstanceID        string `json:"instanceId"`
		NetworkInterfaces []struct {
			SecurityGroups []struct {
				GroupID string `json:"groupId"`
			} `json:"securityGroups"`
		} `json:"networkInterfaces"`
		Tags []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	} `json:"instanceDetails"`
	S3BucketDetails []struct {
		Arn string `json:"arn"`
	} `json:"s3BucketDetails"`
	AccessKeyDetails *struct {
		AccessKeyID string `json:"accessKeyId"`
	} `json:"accessKeyDetails"`
}

// gdService is what the model reads of service besides flattening it.
type gdService struct {
	DetectorID     string `json:"detectorId"`
	Archived       bool   `json:"archived"`
	EventFirstSeen string `json:"eventFirstSeen"`
	EventLastSeen  string `json:"eventLastSeen"`
}

// decodeGuardDuty decodes the GuardDuty finding doc (an EventBridge event's
// detail), which the caller hands over: the finding's Raw aliases it.
func decodeGuardDuty(doc []byte, pos position) (*Finding, error) {
	var g gdFinding
	if err := stdjson.Unmarshal(doc, &g); err != nil {
		return nil, decodeFailure(doc, pos, err)
	}
	if g.Arn == "" {
		return nil, pos.errorAt(doc, skipSpace(doc, 0), ErrMissingField, "GuardDuty finding: missing required field arn")
	}
	var svc gdService
	if len(g.Service) > 0 {
		if err := stdjson.Unmarshal(g.Service, &svc); err != nil {
			return nil, pos.errorAt(doc, 0, err, "GuardDuty finding: field service: "+err.Error())
		}
	}
	f, err := g.convert(svc)
	if err != nil {
		return nil, pos.errorAt(doc, skipSpace(doc, 0), ErrField, "GuardDuty finding: "+err.Error())
	}
	f.Raw = doc[skipSpace(doc, 0):trimRightSpace(doc):trimRightSpace(doc)]
	return f, nil
}

// convert builds the finding as Security Hub's integration would; a
// timestamp in no known layout is an error naming the field.
func (g *gdFinding) convert(svc gdService) (*Finding, error) {
	tp := &timeParser{}
	part := firstNonEmpty(g.Partition, "aws")
	region := firstNonEmpty(g.Region, arnRegion(g.Arn))
	f := &Finding{
		Format:          FormatGuardDuty,
		SchemaVersion:   "2018-10-08",
		ID:              g.Arn,
		ProductArn:      "arn:" + part + ":securityhub:" + region + "::product/aws/guardduty",
		ProductName:     "GuardDuty",
		CompanyName:     "Amazon",
		Region:          region,
		GeneratorID:     detectorArn(g.Arn),
		AwsAccountID:    g.AccountID,
		FirstObservedAt: tp.parse("service.eventFirstSeen", svc.EventFirstSeen),
		LastObservedAt:  tp.parse("service.eventLastSeen", svc.EventLastSeen),
		CreatedAt:       tp.parse("createdAt", g.CreatedAt),
		UpdatedAt:       tp.parse("updatedAt", g.UpdatedAt),
		Severity:        GuardDutySeverity(g.Severity),
		Title:           g.Title,
		Description:     g.Description,
		SourceURL: "https://" + region + ".console.aws.amazon.com/guardduty/home?region=" + region +
			"#/findings?macros=current&fId=" + g.ID,
		ProductFields:  flattenService(g.Service),
		Resources:      g.Resource.resources(part, region, g.AccountID, g.Arn),
		RecordState:    "ACTIVE",
		WorkflowStatus: "NEW",
		WorkflowState:  "NEW",
	}
	if t := guardDutyASFFType(g.Type); t != "" {
		f.Types = []string{t}
	}
	if svc.Archived {
		f.RecordState = "ARCHIVED"
	}
	f.ProductFields["aws/securityhub/ProductName"] = f.ProductName
	f.ProductFields["aws/securityhub/CompanyName"] = f.CompanyName
	f.ProductFields["aws/securityhub/FindingId"] = f.ProductArn + "/" + f.ID
	return f, tp.err
}

// GuardDutySeverity maps GuardDuty's 1.0-10.0 severity to a label by
// GuardDuty's documented levels: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9,
// Critical 9.0-10.0.
func GuardDutySeverity(s float64) Severity {
	out := Severity{Original: strconv.FormatFloat(s, 'f', -1, 64)}
	switch {
	case s >= 9:
		out.Label, out.Normalized = "CRITICAL", 90
	case s >= 7:
		out.Label, out.Normalized = "HIGH", 70
	case s >= 4:
		out.Label, out.Normalized = "MEDIUM", 40
	default:
		out.Label, out.Normalized = "LOW", 1
	}
	return out
}

// detectorArn cuts "/finding/<id>" off a finding ARN: Security Hub's
// GeneratorId for GuardDuty findings is the detector ARN.
func detectorArn(arn string) string {
	if i := strings.Index(arn, "/finding/"); i > 0 {
		return arn[:i]
	}
	return arn
}

// resources lists the finding's resources in ASFF form: the instance (with
// its tags and security groups), the buckets, or the access key; a
// finding on anything else names the account.
func (r *gdResource) resources(part, region, account, findingArn string) []Resource {
	var out []Resource
	if d := r.InstanceDetails; d != nil && d.InstanceID != "" {
		res := Resource{Type: "AwsEc2Instance", Partition: part, Region: region,
			ID: "arn:" + part + ":ec2:" + region + ":" + account + ":instance/" + d.InstanceID}
		for _, t := range d.Tags {
			if res.Tags == nil {
				res.Tags = map[string]string{}
			}
			res.Tags[t.Key] = t.Value
		}
		for _, ni := range d.NetworkInterfaces {
			for _, sg := range ni.SecurityGroups {
				if sg.GroupID != "" && !contains(res.SecurityGroups, sg.GroupID) {
					res.SecurityGroups = append(res.SecurityGroups, sg.GroupID)
				}
			}
		}
		out = append(out, res)
	}
	for _, b := range r.S3BucketDetails {
		if b.Arn != "" {
			out = append(out, Resource{Type: "AwsS3Bucket", ID: b.Arn, Partition: part, Region: region})
		}
	}
	if k := r.AccessKeyDetails; len(out) == 0 && k != nil && k.AccessKeyID != "" {
		out = append(out, Resource{Type: "AwsIamAccessKey", ID: "AWS::IAM::AccessKey:" + k.AccessKeyID, Partition: part, Region: region})
	}
	if len(out) == 0 {
		out = append(out, Resource{Type: "AwsAccount", ID: "AWS::::Account:" + account, Partition: part, Region: region})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// flattenService writes the scalars of GuardDuty's service object as
// Security Hub does: "aws/guardduty/service/<path>", objects joined with
// "/", array elements as ".N_", null and empty containers as "". At most
// maxProductFields-3 entries are kept (room for the aws/securityhub ones),
// in key order.
func flattenService(raw stdjson.RawMessage) map[string]string {
	all := map[string]string{}
	var v any
	if len(raw) > 0 && stdjson.Unmarshal(raw, &v) == nil {
		flatten("aws/guardduty/service", v, all)
	}
	if len(all) <= maxProductFields-3 {
		return all
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, maxProductFields)
	for _, k := range keys[:maxProductFields-3] {
		out[k] = all[k]
	}
	return out
}

func flatten(key string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[key] = ""
		}
		for k, c := range x {
			flatten(key+"/"+k, c, out)
		}
	case []any:
		if len(x) == 0 {
			out[key] = ""
		}
		for i, c := range x {
			flatten(key+"."+strconv.Itoa(i)+"_", c, out)
		}
	case nil:
		out[key] = ""
	case string:
		out[key] = x
	default:
		out[key] = fmt.Sprint(x)
	}
}
