package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"hubtriage/asff"
)

// Message is a rendered email: a one-line subject that is safe to put in a
// header, an HTML part and a plain-text part saying the same thing.
type Message struct {
	Subject string
	HTML    string
	Text    string
}

// MaxSubjectRunes caps the subject's length; longer titles are cut with "…".
const MaxSubjectRunes = 200

// Errors of Render.
var (
	ErrNoFinding     = errors.New("notification has no finding")
	ErrUnknownReason = errors.New("unknown notification reason")
)

//go:embed templates/email.html.tmpl templates/email.txt.tmpl
var templateFS embed.FS

// Parsed templates. They are immutable after parsing and safe to share.
var (
	htmlTemplate = htmltemplate.Must(htmltemplate.New("email.html.tmpl").
			Funcs(htmltemplate.FuncMap{"pair": pair}).
			ParseFS(templateFS, "templates/email.html.tmpl"))
	textTemplate = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/email.txt.tmpl"))
)

// Render turns a notification into an email.
//
// Every text taken from the finding is treated as hostile: the HTML part is
// produced by html/template, links are only made for absolute http and https
// URLs (anything else is shown as inert text), control characters are
// removed everywhere, and line breaks survive only in the description and
// remediation text. The subject, "[SEVERITY] Product: title (account/region)",
// is a single line without control or bidirectional-override characters and
// at most MaxSubjectRunes long. An empty Reason is rendered as ReasonNew; a
// nil Finding or another Reason is an error.
func Render(n Notification) (Message, error) {
	v, err := newView(n)
	if err != nil {
		return Message{}, err
	}
	var h, t bytes.Buffer
	if err := htmlTemplate.Execute(&h, v); err != nil {
		return Message{}, fmt.Errorf("render html part: %w", err)
	}
	if err := textTemplate.Execute(&t, v); err != nil {
		return Message{}, fmt.Errorf("render text part: %w", err)
	}
	return Message{Subject: subject(v), HTML: h.String(), Text: t.String()}, nil
}

// view is what the templates see: every value already sanitised and
// formatted, so the templates hold no logic beyond layout.
type view struct {
	Reason, Rule                          string
	Title, Severity, Product              string
	Badge                                 badge
	Account, Region                       string
	Types                                 string
	ControlID, ComplianceStatus           string
	FirstObserved, LastObserved, Age      string
	Description, RemediationText          string
	RemediationURL, SourceURL, ConsoleURL link
	FindingID                             string
	Resources                             []resourceView
}

// badge is the inline style of the severity badge (mail clients drop <style>).
type badge struct{ Background, Foreground string }

// link is a URL from the finding. Safe says it is an absolute http(s) URL
// that may be rendered as a link; otherwise it is only shown as text.
type link struct {
	URL  string
	Safe bool
}

// resourceView is one resource of the finding, ready to print.
type resourceView struct {
	Type, ID, Region string
	Tags             []string // "key=value", sorted by key
}

// newView computes the template values of n.
func newView(n Notification) (*view, error) {
	f := n.Finding
	if f == nil {
		return nil, ErrNoFinding
	}
	reason, err := reasonText(n)
	if err != nil {
		return nil, err
	}
	sev := severityLabel(f)
	return &view{
		Reason:           reason,
		Rule:             line(n.Rule),
		Title:            orDash(line(f.Title)),
		Severity:         sev,
		Badge:            severityBadge(sev),
		Product:          productName(f),
		Account:          orDash(line(f.AwsAccountID)),
		Region:           orDash(line(f.Region)),
		Types:            line(strings.Join(f.Types, ", ")),
		ControlID:        line(f.Compliance.SecurityControlID),
		ComplianceStatus: line(f.Compliance.Status),
		FirstObserved:    formatTime(observedStart(f)),
		LastObserved:     formatTime(f.LastObservedAt),
		Age:              age(observedStart(f), n.Now),
		Description:      paragraph(f.Description),
		RemediationText:  paragraph(f.Remediation.Text),
		RemediationURL:   newLink(f.Remediation.URL),
		SourceURL:        newLink(f.SourceURL),
		ConsoleURL:       newLink(f.ConsoleURL()),
		FindingID:        line(f.ID),
		Resources:        resources(f.Resources),
	}, nil
}

// reasonText says why the notification was sent.
func reasonText(n Notification) (string, error) {
	switch n.Reason {
	case ReasonNew, "":
		return "New finding", nil
	case ReasonRecurrence:
		return "Recurrence: came back after being resolved", nil
	case ReasonResolved:
		return "Resolved: no longer active in Security Hub", nil
	case ReasonRenotify:
		since := n.OpenSince
		if since.IsZero() {
			since = observedStart(n.Finding)
		}
		return "Still open after " + days(since, n.Now), nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownReason, line(string(n.Reason)))
}

// observedStart is when the finding was first seen: FirstObservedAt, else
// CreatedAt (some products leave FirstObservedAt out).
func observedStart(f *asff.Finding) time.Time {
	if f.FirstObservedAt.IsZero() {
		return f.CreatedAt
	}
	return f.FirstObservedAt
}

// age is the time from first observation to now in whole days, or "unknown".
func age(first, now time.Time) string {
	if first.IsZero() || now.IsZero() {
		return "unknown"
	}
	return days(first, now)
}

// days formats the whole days between from and to ("1 day", "15 days"),
// never negative.
func days(from, to time.Time) string {
	d := 0
	if !from.IsZero() && !to.IsZero() && to.After(from) {
		d = int(to.Sub(from) / (24 * time.Hour))
	}
	if d == 1 {
		return "1 day"
	}
	return strconv.Itoa(d) + " days"
}

// formatTime renders t in UTC, or "unknown" when it is zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// severityLabel is the finding's label, upper-cased and sanitised.
func severityLabel(f *asff.Finding) string {
	if l := line(strings.ToUpper(f.Severity.Label)); l != "" {
		return l
	}
	return "INFORMATIONAL"
}

// severityBadge picks the badge colours of a severity label.
func severityBadge(label string) badge {
	switch label {
	case "CRITICAL":
		return badge{"#7d1007", "#ffffff"}
	case "HIGH":
		return badge{"#d13212", "#ffffff"}
	case "MEDIUM":
		return badge{"#f89256", "#16191f"}
	case "LOW":
		return badge{"#f2cd54", "#16191f"}
	}
	return badge{"#687078", "#ffffff"}
}

// productName is the product that produced the finding: ProductName, else
// the last element of ProductArn ("product/aws/guardduty" -> "guardduty").
func productName(f *asff.Finding) string {
	if p := line(f.ProductName); p != "" {
		return p
	}
	if i := strings.LastIndexByte(f.ProductArn, '/'); i >= 0 {
		if p := line(f.ProductArn[i+1:]); p != "" {
			return p
		}
	}
	return "Security Hub"
}

// resources formats the finding's resources.
func resources(in []asff.Resource) []resourceView {
	out := make([]resourceView, 0, len(in))
	for _, r := range in {
		out = append(out, resourceView{
			Type:   orDash(line(r.Type)),
			ID:     orDash(line(r.ID)),
			Region: line(r.Region),
			Tags:   tags(r.Tags),
		})
	}
	return out
}

// tags formats a tag map as sorted "key=value" strings.
func tags(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, line(k)+"="+line(v))
	}
	sort.Strings(out)
	return out
}

// newLink classifies a URL from the finding: only absolute http and https
// URLs with a host become links.
func newLink(raw string) link {
	s := line(raw)
	u, err := url.Parse(s)
	safe := err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	return link{URL: s, Safe: safe}
}

// subject builds the one-line subject, cutting the title so that the whole
// subject fits MaxSubjectRunes.
func subject(v *view) string {
	prefix := "[" + v.Severity + "] " + v.Product + ": "
	suffix := " (" + v.Account + "/" + v.Region + ")"
	room := MaxSubjectRunes - utf8.RuneCountInString(prefix) - utf8.RuneCountInString(suffix)
	return truncate(prefix+truncate(v.Title, room)+suffix, MaxSubjectRunes)
}

// truncate cuts s to at most max runes, marking a cut with "…".
func truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:max-1]), unicode.IsSpace) + "…"
}

// pair lets the HTML template pass a label and a value to its "row" block.
func pair(label, value string) [2]string { return [2]string{label, value} }

// orDash stands in "-" for an empty value.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// line makes s a single clean line: invalid UTF-8 replaced, every control,
// line-separator and bidirectional-override character turned into a space,
// runs of spaces collapsed and the ends trimmed.
func line(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unsafeRune(r)
	}), " ")
}

// paragraph cleans multi-line text: CRLF and CR become LF, other control and
// bidirectional-override characters are removed (tabs become spaces), and
// more than one blank line in a row is collapsed.
func paragraph(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\t", " ").Replace(s)
	s = strings.Map(func(r rune) rune {
		if r != '\n' && unsafeRune(r) {
			return -1
		}
		return r
	}, s)
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(s)
}

// unsafeRune reports characters that must not reach a header or a reader
// unfiltered: C0/C1 controls, line and paragraph separators, and the
// bidirectional overrides that can make text display differently from what
// it is.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069', r == '\u200E', r == '\u200F':
		return true
	}
	return false
}
