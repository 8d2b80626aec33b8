package correlate

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hubtriage/asff"
)

// Identity of hubtriage's own findings.
const (
	// generatorPrefix + rule name is the GeneratorId of a correlated finding.
	generatorPrefix = "hubtriage/correlation/"
	productName     = "hubtriage"
	// pfRule and pfResource are ProductFields keys alert rules can filter on.
	pfRule         = "hubtriage/rule"
	pfResource     = "hubtriage/resource"
	pfContributing = "hubtriage/contributing"
	schemaVersion  = "2018-10-08"
	timeLayout     = "2006-01-02T15:04:05.000Z"
	// maxRelated is the ASFF limit on RelatedFindings.
	maxRelated = 10
	maxID      = 512
)

// IsOwn reports whether f is a correlated finding hubtriage wrote: the
// pipeline does not correlate those again (no feedback loop) but still
// lets alert rules notify on them.
func IsOwn(f *asff.Finding) bool {
	return strings.HasPrefix(f.GeneratorID, generatorPrefix) && strings.HasSuffix(f.ProductArn, "/default")
}

// doc is a correlated finding in ASFF, field order as AWS documents it.
type doc struct {
	SchemaVersion         string            `json:"SchemaVersion"`
	ID                    string            `json:"Id"`
	ProductArn            string            `json:"ProductArn"`
	ProductName           string            `json:"ProductName"`
	CompanyName           string            `json:"CompanyName"`
	Region                string            `json:"Region"`
	GeneratorID           string            `json:"GeneratorId"`
	AwsAccountID          string            `json:"AwsAccountId"`
	Types                 []string          `json:"Types"`
	FirstObservedAt       string            `json:"FirstObservedAt"`
	LastObservedAt        string            `json:"LastObservedAt"`
	CreatedAt             string            `json:"CreatedAt"`
	UpdatedAt             string            `json:"UpdatedAt"`
	Severity              docSeverity       `json:"Severity"`
	Title                 string            `json:"Title"`
	Description           string            `json:"Description"`
	Remediation           *docRemediation   `json:"Remediation,omitempty"`
	ProductFields         map[string]string `json:"ProductFields"`
	Resources             []docResource     `json:"Resources"`
	RelatedFindings       []docRelated      `json:"RelatedFindings"`
	RecordState           string            `json:"RecordState"`
	FindingProviderFields docProvider       `json:"FindingProviderFields"`
}

type docSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original"`
}

type docRemediation struct {
	Recommendation docRecommendation `json:"Recommendation"`
}

type docRecommendation struct {
	Text string `json:"Text,omitempty"`
	URL  string `json:"Url,omitempty"`
}

type docResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition"`
	Region    string `json:"Region"`
}

type docRelated struct {
	ProductArn string `json:"ProductArn"`
	ID         string `json:"Id"`
}

type docProvider struct {
	Severity docSeverity `json:"Severity"`
	Types    []string    `json:"Types"`
}

// findingID is the deterministic Id of the rule's correlated finding on
// the resource: readable, and hashed only when it would exceed the limit.
func findingID(rule string, res Ref) string {
	id := generatorPrefix + rule + "/" + res.Key()
	if len(id) <= maxID {
		return id
	}
	sum := sha256.Sum256([]byte(rule + "\x00" + res.Key()))
	return generatorPrefix + rule + "/" + res.Type + "/sha256-" + hex.EncodeToString(sum[:])
}

// placement is where the correlated finding is imported and about what.
type placement struct {
	res                        Ref // the joined resource, with account and region resolved
	partition, region, account string
	importer                   string // account in the ProductArn
}

// buildDoc assembles the correlated finding for rule r from its
// contributing findings (ordered by key) and rendered text.
func buildDoc(r *Rule, pl placement, contrib []*indexed, byCond map[string][]*indexed, title, desc string,
	created, now time.Time) doc {
	d := doc{
		SchemaVersion: schemaVersion,
		ID:            findingID(r.Name, pl.res),
		ProductArn:    "arn:" + pl.partition + ":securityhub:" + pl.region + ":" + pl.importer + ":product/" + pl.importer + "/default",
		ProductName:   productName,
		CompanyName:   productName,
		Region:        pl.region,
		GeneratorID:   generatorPrefix + r.Name,
		AwsAccountID:  pl.account,
		Types:         r.out.types,
		CreatedAt:     created.UTC().Format(timeLayout),
		UpdatedAt:     now.UTC().Format(timeLayout),
		Severity:      docSeverity{Label: r.out.severity, Original: r.out.severity},
		Title:         title,
		Description:   desc,
		ProductFields: map[string]string{
			pfRule: r.Name, pfResource: pl.res.Key(), pfContributing: strconv.Itoa(len(contrib)),
		},
		Resources:       []docResource{{Type: pl.res.Type, ID: pl.res.ARN(), Partition: pl.partition, Region: pl.region}},
		RelatedFindings: relatedOf(r, byCond),
		RecordState:     "ACTIVE",
	}
	d.FindingProviderFields = docProvider{Severity: d.Severity, Types: d.Types}
	if rm := r.out.remediation; rm.Text != "" || rm.URL != "" {
		d.Remediation = &docRemediation{docRecommendation(rm)}
	}
	first, last := observedSpan(contrib)
	d.FirstObservedAt, d.LastObservedAt = first.Format(timeLayout), last.Format(timeLayout)
	return d
}

// observedSpan is the earliest first and the latest last observation.
func observedSpan(contrib []*indexed) (first, last time.Time) {
	for i, x := range contrib {
		if i == 0 || x.First.Before(first) {
			first = x.First
		}
		if x.Seen.After(last) {
			last = x.Seen
		}
	}
	return first.UTC(), last.UTC()
}

// relatedOf lists at most maxRelated contributing findings (the ASFF
// limit), every condition represented. The full list is in the Result.
func relatedOf(r *Rule, byCond map[string][]*indexed) []docRelated {
	picked := sample(r, byCond, maxRelated)
	out := make([]docRelated, len(picked))
	for i, x := range picked {
		out[i] = docRelated{ProductArn: normaliseProductArn(x.ProductArn), ID: x.ID}
	}
	return out
}

// sample picks at most n findings, taking from each condition in turn so
// that every condition is represented, ordered by key.
func sample(r *Rule, byCond map[string][]*indexed, n int) []*indexed {
	picked := map[string]*indexed{}
	for round := 0; len(picked) < n; round++ {
		progressed := false
		for _, c := range r.Conditions {
			if list := byCond[c.Name]; round < len(list) && len(picked) < n {
				picked[list[round].key()] = list[round]
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	out := make([]*indexed, 0, len(picked))
	for _, k := range sortedKeys(picked) {
		out = append(out, picked[k])
	}
	return out
}

// brokenProductArnRE matches product ARNs with an empty service field
// ("arn:aws::securityhub:..."), as some published findings have; the
// RelatedFindings ProductArn pattern rejects them.
var brokenProductArnRE = regexp.MustCompile(`^arn:([a-z-]+)::securityhub:`)

func normaliseProductArn(s string) string {
	return brokenProductArnRE.ReplaceAllString(s, "arn:$1:securityhub:")
}
