package correlate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	json "github.com/goccy/go-json"
)

// ValidateASFF checks that b is a finding BatchImportFindings accepts: the
// required ASFF fields are present and well formed (SchemaVersion, Id,
// ProductArn, GeneratorId, AwsAccountId, Types, timestamps, Severity,
// Title, Description, Resources), optional ones it carries are within the
// documented limits. It returns every problem found, each naming its field.
func ValidateASFF(b []byte) error {
	var d struct {
		SchemaVersion   string   `json:"SchemaVersion"`
		ID              string   `json:"Id"`
		ProductArn      string   `json:"ProductArn"`
		GeneratorID     string   `json:"GeneratorId"`
		AwsAccountID    string   `json:"AwsAccountId"`
		Title           string   `json:"Title"`
		Description     string   `json:"Description"`
		RecordState     string   `json:"RecordState"`
		Types           []string `json:"Types"`
		FirstObservedAt *string  `json:"FirstObservedAt"`
		LastObservedAt  *string  `json:"LastObservedAt"`
		CreatedAt       *string  `json:"CreatedAt"`
		UpdatedAt       *string  `json:"UpdatedAt"`
		Severity        *struct {
			Label string `json:"Label"`
		} `json:"Severity"`
		Resources       []vResource `json:"Resources"`
		RelatedFindings []struct {
			ProductArn string `json:"ProductArn"`
			ID         string `json:"Id"`
		} `json:"RelatedFindings"`
		FindingProviderFields *struct {
			Severity *struct {
				Label string `json:"Label"`
			} `json:"Severity"`
			Types []string `json:"Types"`
		} `json:"FindingProviderFields"`
		Remediation *struct {
			Recommendation struct {
				Text string `json:"Text"`
				URL  string `json:"Url"`
			} `json:"Recommendation"`
		} `json:"Remediation"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("not an ASFF finding: %w", err)
	}
	v := &validator{}
	v.check(d.SchemaVersion == schemaVersion, "SchemaVersion", "must be %s (got %q)", schemaVersion, d.SchemaVersion)
	v.length("Id", d.ID, 1, maxID)
	v.check(productArnRE.MatchString(d.ProductArn), "ProductArn", "must be a Security Hub product ARN (got %q)", d.ProductArn)
	v.length("GeneratorId", d.GeneratorID, 1, 512)
	v.check(isAccount(d.AwsAccountID), "AwsAccountId", "must be 12 digits (got %q)", d.AwsAccountID)
	v.types("Types", d.Types)
	for name, ts := range map[string]*string{"CreatedAt": d.CreatedAt, "UpdatedAt": d.UpdatedAt,
		"FirstObservedAt": d.FirstObservedAt, "LastObservedAt": d.LastObservedAt} {
		v.timestamp(name, ts, name == "CreatedAt" || name == "UpdatedAt")
	}
	v.check(d.Severity != nil && slices.Contains(severityLabels, d.Severity.Label), "Severity.Label",
		"must be one of %v", severityLabels)
	v.length("Title", d.Title, 1, maxTitle)
	v.length("Description", d.Description, 1, maxDescription)
	v.resources(d.Resources)
	v.check(len(d.RelatedFindings) <= maxRelated, "RelatedFindings", "at most %d (got %d)", maxRelated, len(d.RelatedFindings))
	for i, r := range d.RelatedFindings {
		v.check(productArnRE.MatchString(r.ProductArn), fmt.Sprintf("RelatedFindings[%d].ProductArn", i), "must be a product ARN (got %q)", r.ProductArn)
		v.length(fmt.Sprintf("RelatedFindings[%d].Id", i), r.ID, 1, maxID)
	}
	v.check(d.RecordState == "" || d.RecordState == "ACTIVE" || d.RecordState == "ARCHIVED", "RecordState",
		"must be ACTIVE or ARCHIVED (got %q)", d.RecordState)
	if p := d.FindingProviderFields; p != nil {
		v.check(p.Severity == nil || slices.Contains(severityLabels, p.Severity.Label),
			"FindingProviderFields.Severity.Label", "must be one of %v", severityLabels)
		v.types("FindingProviderFields.Types", p.Types)
	}
	if r := d.Remediation; r != nil {
		v.length("Remediation.Recommendation.Text", r.Recommendation.Text, 0, maxRemediationText)
	}
	return errors.Join(v.errs...)
}

// productArnRE is the pattern AWS documents for product ARNs.
var productArnRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso-?[a-z]{0,2}):[A-Za-z0-9]{1,63}:[a-z]+-([a-z]{1,10}-)?[a-z]+-[0-9]+:([0-9]{12})?:.+$`)

type validator struct{ errs []error }

func (v *validator) check(ok bool, field, format string, args ...any) {
	if !ok {
		v.errs = append(v.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
}

func (v *validator) length(field, s string, lo, hi int) {
	v.check(len(s) >= lo && len(s) <= hi, field, "length must be %d to %d (got %d)", lo, hi, len(s))
}

func (v *validator) types(field string, ts []string) {
	v.check(len(ts) >= 1 && len(ts) <= 50, field, "must list 1 to 50 types (got %d)", len(ts))
	for i, t := range ts {
		v.check(validType(t), fmt.Sprintf("%s[%d]", field, i), "must be namespace/category/classifier (got %q)", t)
	}
}

func (v *validator) timestamp(field string, s *string, required bool) {
	if s == nil {
		v.check(!required, field, "is required")
		return
	}
	_, err := time.Parse(time.RFC3339Nano, *s)
	v.check(err == nil, field, "must be an RFC 3339 time (got %q)", *s)
}

// vResource is a resource as ValidateASFF reads it.
type vResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition"`
}

func (v *validator) resources(rs []vResource) {
	v.check(len(rs) >= 1 && len(rs) <= 32, "Resources", "must list 1 to 32 resources (got %d)", len(rs))
	for i, r := range rs {
		p := fmt.Sprintf("Resources[%d]", i)
		v.length(p+".Type", r.Type, 1, 256)
		v.length(p+".Id", r.ID, 1, 512)
		v.check(r.Partition == "" || slices.Contains([]string{"aws", "aws-cn", "aws-us-gov"}, r.Partition),
			p+".Partition", "must be aws, aws-cn or aws-us-gov (got %q)", r.Partition)
	}
}
