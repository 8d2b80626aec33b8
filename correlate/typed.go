package correlate

import (
	"maps"
	"time"

	"hubtriage/asff"
)

// typed is the correlated finding d (encoded as raw) as the finding type
// the pipeline works on, built from d's fields rather than by decoding
// raw: what asff.DecodeFinding(raw) returns (a test holds them equal).
func typed(d doc, raw []byte) *asff.Finding {
	f := &asff.Finding{
		SchemaVersion: d.SchemaVersion, ID: d.ID, ProductArn: d.ProductArn,
		ProductName: d.ProductName, CompanyName: d.CompanyName, Region: d.Region,
		GeneratorID: d.GeneratorID, AwsAccountID: d.AwsAccountID, Types: d.Types,
		FirstObservedAt: parseTime(d.FirstObservedAt), LastObservedAt: parseTime(d.LastObservedAt),
		CreatedAt: parseTime(d.CreatedAt), UpdatedAt: parseTime(d.UpdatedAt),
		Severity:      asff.Severity{Label: d.Severity.Label, Original: d.Severity.Original},
		Title:         d.Title,
		Description:   d.Description,
		ProductFields: maps.Clone(d.ProductFields),
		RecordState:   d.RecordState,
		FindingProviderFields: &asff.ProviderFields{
			SeverityLabel: d.FindingProviderFields.Severity.Label, SeverityOriginal: d.FindingProviderFields.Severity.Original,
			Types: d.FindingProviderFields.Types,
		},
		Raw: raw,
	}
	if d.Remediation != nil {
		f.Remediation = asff.Remediation{Text: d.Remediation.Recommendation.Text, URL: d.Remediation.Recommendation.URL}
	}
	for _, r := range d.Resources {
		f.Resources = append(f.Resources, asff.Resource{Type: r.Type, ID: r.ID, Partition: r.Partition, Region: r.Region})
	}
	for _, r := range d.RelatedFindings {
		f.RelatedFindings = append(f.RelatedFindings, asff.RelatedFinding{ProductArn: r.ProductArn, ID: r.ID})
	}
	return f
}

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
