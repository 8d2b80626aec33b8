package asff

import "strings"

// awsProducts are the CompanyName and ProductName Security Hub gives the
// AWS integrations, by the last part of their product ARN
// (arn:aws:securityhub:<region>::product/aws/<name>). The Amazon-branded
// services say "Amazon", the others "AWS", as real findings show.
var awsProducts = map[string][2]string{
	"access-analyzer":   {"AWS", "IAM Access Analyzer"},
	"config":            {"AWS", "Config"},
	"detective":         {"Amazon", "Detective"},
	"firewall-manager":  {"AWS", "Firewall Manager"},
	"guardduty":         {"Amazon", "GuardDuty"},
	"health":            {"AWS", "Health"},
	"inspector":         {"Amazon", "Inspector"},
	"macie":             {"Amazon", "Macie"},
	"securityhub":       {"AWS", "Security Hub"},
	"securityhub-risk":  {"AWS", "Security Hub Exposure Analysis"},
	"ssm-patch-manager": {"AWS", "Systems Manager Patch Manager"},
}

// productNames derives CompanyName and ProductName from a product ARN, for
// findings that carry neither at top level nor in ProductFields:
//
//   - product/aws/<name>: the names in awsProducts ("AWS" and the slug for
//     an integration not listed);
//   - product/<account>/default (BatchImportFindings from the account's own
//     default product): "Personal" and "Default", as Security Hub fills them;
//   - product/<company>/<product> (third parties): the slugs with each
//     dash-separated word capitalised ("prowler" -> "Prowler",
//     "trend-micro" -> "Trend Micro"), the usual form of the real names.
//
// The new Security Hub's productv2/ ARNs are read the same way. Anything
// else gives "", "".
func productNames(productArn string) (company, product string) {
	rest, ok := productPath(productArn)
	if !ok {
		return "", ""
	}
	co, prod, ok := strings.Cut(rest, "/")
	if !ok || co == "" || prod == "" || strings.Contains(prod, "/") {
		return "", ""
	}
	switch {
	case co == "aws":
		if names, ok := awsProducts[prod]; ok {
			return names[0], names[1]
		}
		return "AWS", prod
	case prod == "default" && isAccountID(co):
		return "Personal", "Default"
	}
	return titleWords(co), titleWords(prod)
}

// productPath returns what follows ":product/" (or ":productv2/") in an
// ARN.
func productPath(arn string) (string, bool) {
	for _, marker := range [...]string{":product/", ":productv2/"} {
		if i := strings.Index(arn, marker); i >= 0 {
			return arn[i+len(marker):], true
		}
	}
	return "", false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// titleWords capitalises each dash-separated word and joins them with
// spaces.
func titleWords(slug string) string {
	words := strings.Split(slug, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
