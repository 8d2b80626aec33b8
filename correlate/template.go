package correlate

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Default templates for rules whose output says nothing.
const (
	defaultTitle       = `{{.Rule}}: correlated findings on {{.Resource.Type}} {{.Resource.Name}}`
	defaultDescription = `{{len .Findings}} findings from several products on {{.Resource.ID}} satisfy correlation rule {{.Rule}} within its window.`
)

// ASFF limits on the rendered text.
const (
	maxTitle           = 256
	maxDescription     = 1024
	maxRemediationText = 512
)

// TemplateData is what title and description templates see.
type TemplateData struct {
	Rule     string
	Resource ResourceData
	// Findings are the contributing findings, ordered by ProductArn and Id.
	Findings []FindingData
	// Conditions maps each condition name to the findings satisfying it.
	Conditions map[string][]FindingData
	// Distinct maps each condition name to the distinct values it counted
	// (its distinct_by values; empty for conditions without distinct_by).
	Distinct map[string][]string
}

// ResourceData describes the joined resource.
type ResourceData struct {
	Type    string // ASFF resource type
	ID      string // ARN when known, else the normalised name
	Name    string // instance id, bucket name, ...
	Account string
	Region  string
}

// FindingData describes one contributing finding.
type FindingData struct {
	ID             string
	ProductArn     string
	ProductName    string
	Title          string
	Types          []string
	Severity       string
	LastObservedAt time.Time
	// Conditions are the names of the conditions the finding satisfies.
	Conditions []string
}

// templateFuncs are the functions templates may call besides the
// text/template built-ins: join SEP LIST, and titles FINDINGS, the findings'
// titles joined with "; " without their final full stops.
var templateFuncs = template.FuncMap{
	"join":   func(sep string, vals []string) string { return strings.Join(vals, sep) },
	"titles": titles,
}

func titles(fs []FindingData) string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if t := strings.TrimRight(strings.TrimSpace(f.Title), "."); t != "" && !slicesContains(out, t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, "; ")
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseTemplate parses text and runs it once on sample data shaped like
// the rule's, so unknown fields and condition names fail at load.
func parseTemplate(name, text string, r *Rule) (*template.Template, error) {
	t, err := template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := t.Execute(&b, sampleData(r)); err != nil {
		return nil, err
	}
	return t, nil
}

// sampleData has one finding per condition of r.
func sampleData(r *Rule) TemplateData {
	d := TemplateData{
		Rule:       r.Name,
		Resource:   ResourceData{Type: r.Join, ID: "sample", Name: "sample", Account: "123456789012", Region: "us-east-1"},
		Conditions: map[string][]FindingData{},
		Distinct:   map[string][]string{},
	}
	for _, c := range r.Conditions {
		fd := FindingData{ID: "sample-" + c.Name, ProductArn: "arn:aws:securityhub:us-east-1::product/aws/sample",
			ProductName: "Sample", Title: "sample", Types: []string{"TTPs/Sample"}, Severity: "HIGH", Conditions: []string{c.Name}}
		d.Findings = append(d.Findings, fd)
		d.Conditions[c.Name] = []FindingData{fd}
		d.Distinct[c.Name] = []string{"sample"}
	}
	return d
}

// render runs t on d and cuts the result to max bytes.
func render(t *template.Template, d TemplateData, max int) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return truncate(strings.TrimSpace(b.String()), max), nil
}
