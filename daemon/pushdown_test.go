package daemon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hubtriage/filter"
	"hubtriage/internal/filtertest"
)

func mustFilter(t *testing.T, src string) *filter.Filters {
	t.Helper()
	if src == "" {
		return &filter.Filters{}
	}
	f, err := filtertest.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestQueries(t *testing.T) {
	from := time.Date(2026, 3, 1, 11, 45, 0, 123456789, time.UTC)
	to := from.Add(24 * time.Hour)
	window := `"UpdatedAt":[{"DateRange":null,"End":"2026-03-02T11:45:00.123Z","Start":"2026-03-01T11:45:00.123Z"}]`
	crit := `{"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"}]}`
	for _, c := range []struct {
		name  string
		rules []string
		want  []string // each query's non-empty fields, as JSON
	}{
		{"one rule", []string{crit},
			[]string{`{"SeverityLabel":[{"Comparison":"EQUALS","Value":"CRITICAL"}],` + window + `}`}},
		{"a rule per query, duplicates once", []string{crit, `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}]}`, crit},
			[]string{`{"SeverityLabel":[{"Comparison":"EQUALS","Value":"CRITICAL"}],` + window + `}`,
				`{"ProductName":[{"Comparison":"EQUALS","Value":"GuardDuty"}],` + window + `}`}},
		{"state fields are not pushed", []string{`{"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"}],"RecordState":[{"Value":"ACTIVE","Comparison":"EQUALS"}],"WorkflowStatus":[{"Value":"NEW","Comparison":"EQUALS"}],"ComplianceStatus":[{"Value":"FAILED","Comparison":"EQUALS"}]}`},
			[]string{`{"SeverityLabel":[{"Comparison":"EQUALS","Value":"HIGH"}],` + window + `}`}},
		{"only state fields: everything", []string{`{"RecordState":[{"Value":"ACTIVE","Comparison":"EQUALS"}]}`},
			[]string{`{` + window + `}`}},
		{"a rule without filter: everything", []string{crit, ""},
			[]string{`{` + window + `}`}},
		{"own UpdatedAt: everything", []string{`{"UpdatedAt":[{"DateRange":{"Value":7,"Unit":"DAYS"}}]}`},
			[]string{`{` + window + `}`}},
		{"map CONTAINS: everything", []string{`{"ResourceTags":[{"Key":"env","Value":"prod","Comparison":"CONTAINS"}]}`},
			[]string{`{` + window + `}`}},
		{"map EQUALS is pushed", []string{`{"ResourceTags":[{"Key":"env","Value":"prod","Comparison":"EQUALS"}]}`},
			[]string{`{"ResourceTags":[{"Comparison":"EQUALS","Key":"env","Value":"prod"}],` + window + `}`}},
		{"IP, number, boolean and new string fields are pushed", []string{`{"NetworkSourceIpV4":[{"Cidr":"198.51.100.0/24"}],` +
			`"Confidence":[{"Gte":50}],"Sample":[{"Value":false}],"VulnerabilitiesFixAvailable":[{"Value":"YES","Comparison":"EQUALS"}]}`},
			[]string{`{"Confidence":[{"Eq":null,"Gt":null,"Gte":50,"Lt":null,"Lte":null}],"NetworkSourceIpV4":[{"Cidr":"198.51.100.0/24"}],` +
				`"Sample":[{"Value":false}],` + window + `,"VulnerabilitiesFixAvailable":[{"Comparison":"EQUALS","Value":"YES"}]}`}},
		{"Keyword and CONTAINS_WORD are left out", []string{`{"Keyword":[{"Value":"brute"}],"Title":[{"Value":"SSH","Comparison":"CONTAINS_WORD"}],` +
			`"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"}]}`},
			[]string{`{"SeverityLabel":[{"Comparison":"EQUALS","Value":"HIGH"}],` + window + `}`}},
		{"only Keyword: everything", []string{`{"Keyword":[{"Value":"brute"}]}`},
			[]string{`{` + window + `}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rules []*filter.Filters
			for _, r := range c.rules {
				rules = append(rules, mustFilter(t, r))
			}
			got := queries(rules, from, to)
			if len(got) != len(c.want) {
				t.Fatalf("%d queries, want %d", len(got), len(c.want))
			}
			for i, q := range got {
				if s := compact(t, q); s != c.want[i] {
					t.Errorf("query %d:\n got %s\nwant %s", i, s, c.want[i])
				}
			}
		})
	}
}

func TestTooManyFieldsOrValuesAreNotPushed(t *testing.T) {
	var values []string
	for i := range 21 {
		values = append(values, `{"Value":"acct`+strings.Repeat("1", i+1)+`","Comparison":"EQUALS"}`)
	}
	wide := `{"AwsAccountId":[` + strings.Join(values, ",") + `]}`
	many := `{"AwsAccountId":[{"Value":"1","Comparison":"EQUALS"}],"Region":[{"Value":"r","Comparison":"EQUALS"}],
		"Title":[{"Value":"t","Comparison":"PREFIX"}],"Description":[{"Value":"d","Comparison":"PREFIX"}],
		"GeneratorId":[{"Value":"g","Comparison":"PREFIX"}],"ProductName":[{"Value":"p","Comparison":"EQUALS"}],
		"CompanyName":[{"Value":"c","Comparison":"EQUALS"}],"ResourceType":[{"Value":"rt","Comparison":"EQUALS"}],
		"ResourceId":[{"Value":"ri","Comparison":"PREFIX"}],"SeverityLabel":[{"Value":"LOW","Comparison":"EQUALS"}]}`
	for name, src := range map[string]string{"21 values": wide, "10 fields": many} {
		if q, ok := pushable(mustFilter(t, src)); ok {
			t.Errorf("%s pushed down: %s", name, compact(t, q))
		}
	}
}

// compact renders a query as JSON without its empty fields.
func compact(t *testing.T, q any) string {
	t.Helper()
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		if string(v) == "null" {
			delete(m, k)
		}
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
