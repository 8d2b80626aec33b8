package notify_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"hubtriage/asff"
	"hubtriage/internal/fixtures/asfftest"
	"hubtriage/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering (run go test -update and review the diff):\n%s", path, got)
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		n       notify.Notification
	}{
		{
			name:    "guardduty-ssh-bruteforce-new",
			fixture: "findings/guardduty-ssh-bruteforce.json",
			n:       notify.Notification{Rule: "guardduty", Reason: notify.ReasonNew, Now: date("2020-10-01T08:00:00Z")},
		},
		{
			name:    "control-cloudtrail2-renotify",
			fixture: "findings/control-consolidated-CloudTrail.2.json",
			n: notify.Notification{Rule: "failed-controls", Reason: notify.ReasonRenotify,
				OpenSince: date("2022-10-10T12:00:00Z"), Now: date("2022-11-01T12:00:00Z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.n.Finding = asfftest.Finding(t, tt.fixture)
			m, err := notify.Render(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".html", m.HTML)
			golden(t, tt.name+".txt", "Subject: "+m.Subject+"\n\n"+m.Text)
		})
	}
}

// hostile is a finding whose every free-text field tries HTML, script and
// header injection.
func hostile() *asff.Finding {
	return &asff.Finding{
		ID:           "id-<script>alert('id')</script>",
		ProductArn:   "arn:aws:securityhub:us-east-1::product/evil/<b>x</b>",
		ProductName:  "Evil<script>",
		AwsAccountID: "111122223333\x00\r\nBcc: victim@example.com",
		Region:       "us-east-1",
		Severity:     asff.Severity{Label: "HIGH"},
		Title:        "<script>alert('title')</script>\r\nBcc: all@example.com",
		Description:  "first line\n<script>alert('desc')</script>\x1b[31mred",
		Remediation:  asff.Remediation{Text: "<img src=x onerror=alert(1)>", URL: "javascript:alert('remediation')"},
		SourceURL:    "//evil.example.com/relative",
		Resources: []asff.Resource{{
			Type: "AwsEc2Instance", ID: "i-<script>alert('rid')</script>", Region: "us-east-1",
			Tags: map[string]string{"<script>k</script>": "<script>alert('tag')</script>"},
		}},
		FirstObservedAt: date("2024-01-01T00:00:00Z"),
	}
}

var hrefRE = regexp.MustCompile(`(?i)\bhref\s*=\s*"([^"]*)"`)

func TestRenderEscapesHostileText(t *testing.T) {
	m, err := notify.Render(notify.Notification{Finding: hostile(), Now: date("2024-01-02T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(m.HTML), "<script") || strings.Contains(m.HTML, "<img") {
		t.Errorf("HTML contains live markup from the finding:\n%s", m.HTML)
	}
	for _, want := range []string{"&lt;script&gt;alert(&#39;title&#39;)", "&lt;script&gt;alert(&#39;desc&#39;)",
		"&lt;script&gt;alert(&#39;tag&#39;)", "&lt;script&gt;alert(&#39;rid&#39;)", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks the escaped text %q", want)
		}
	}
	hrefs := hrefRE.FindAllStringSubmatch(m.HTML, -1)
	if len(hrefs) == 0 {
		t.Fatal("HTML has no link at all; the Security Hub console link is missing")
	}
	for _, h := range hrefs {
		if !strings.HasPrefix(h[1], "https://") && !strings.HasPrefix(h[1], "http://") {
			t.Errorf("link to %q: only absolute http(s) links may be made", h[1])
		}
	}
	if !strings.Contains(m.HTML, "javascript:alert(&#39;remediation&#39;)") {
		t.Error("the unsafe remediation URL should still be shown, as text")
	}
	if strings.ContainsRune(m.HTML+m.Text, '\x1b') || strings.ContainsRune(m.HTML+m.Text, '\x00') {
		t.Error("control characters from the finding reached the message")
	}
	if !strings.Contains(m.Text, "[HIGH] <script>alert('title')</script> Bcc: all@example.com\n") {
		t.Errorf("text part should show the title verbatim on one line:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "first line\n<script>alert('desc')</script>[31mred") {
		t.Errorf("text part should keep the description's line break and drop the escape:\n%s", m.Text)
	}
}

func TestSubjectIsOneSafeLine(t *testing.T) {
	long := hostile()
	long.Title = strings.Repeat("very long title ", 40) + "\u202Egnp.exe"
	tests := []struct {
		name string
		f    *asff.Finding
		want string // exact subject, or "" to check only the invariants
	}{
		{"guardduty", &asff.Finding{ProductName: "GuardDuty", Severity: asff.Severity{Label: "high"},
			Title: "Recon:EC2/Portscan on i-1", AwsAccountID: "123456789012", Region: "eu-west-1"},
			"[HIGH] GuardDuty: Recon:EC2/Portscan on i-1 (123456789012/eu-west-1)"},
		{"injection", hostile(),
			"[HIGH] Evil<script>: <script>alert('title')</script> Bcc: all@example.com (111122223333 Bcc: victim@example.com/us-east-1)"},
		{"product from arn", &asff.Finding{ProductArn: "arn:aws:securityhub:us-east-1::product/aws/inspector",
			Title: "t", AwsAccountID: "1", Region: "r"}, "[INFORMATIONAL] inspector: t (1/r)"},
		{"too long", long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := notify.Render(notify.Notification{Finding: tt.f})
			if err != nil {
				t.Fatal(err)
			}
			s := m.Subject
			if tt.want != "" && s != tt.want {
				t.Errorf("subject = %q, want %q", s, tt.want)
			}
			if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u202E' }) >= 0 {
				t.Errorf("subject %q contains a control or bidi-override character", s)
			}
			if n := utf8.RuneCountInString(s); n > notify.MaxSubjectRunes {
				t.Errorf("subject is %d runes, cap is %d", n, notify.MaxSubjectRunes)
			}
			if !strings.HasSuffix(s, "/"+tt.f.Region+")") {
				t.Errorf("subject %q lost its (account/region) suffix", s)
			}
		})
	}
}

func TestRenderSaysWhyItWasSent(t *testing.T) {
	first := date("2024-03-01T10:00:00Z")
	now := date("2024-03-31T09:00:00Z") // 29.96 days after first
	tests := []struct {
		name      string
		reason    notify.Reason
		openSince time.Time
		want      string
	}{
		{"new", notify.ReasonNew, time.Time{}, "New finding"},
		{"zero reason is new", "", time.Time{}, "New finding"},
		{"recurrence", notify.ReasonRecurrence, time.Time{}, "Recurrence: came back after being resolved"},
		{"resolved", notify.ReasonResolved, time.Time{}, "Resolved: no longer active in Security Hub"},
		{"renotify from open period", notify.ReasonRenotify, date("2024-03-15T09:00:00Z"), "Still open after 16 days"},
		{"renotify one day", notify.ReasonRenotify, date("2024-03-30T08:00:00Z"), "Still open after 1 day"},
		{"renotify falls back to first observed", notify.ReasonRenotify, time.Time{}, "Still open after 29 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &asff.Finding{Title: "t", FirstObservedAt: first}
			m, err := notify.Render(notify.Notification{Finding: f, Reason: tt.reason, OpenSince: tt.openSince, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Text, tt.want+"\n") || !strings.Contains(m.HTML, tt.want) {
				t.Errorf("reason %q not rendered as %q:\n%s", tt.reason, tt.want, m.Text)
			}
			if !strings.Contains(m.Text, "Age:               29 days\n") {
				t.Errorf("age from FirstObservedAt to Now should be 29 days:\n%s", m.Text)
			}
		})
	}
}

func TestRenderRejectsBadNotifications(t *testing.T) {
	if _, err := notify.Render(notify.Notification{Reason: notify.ReasonNew}); !errors.Is(err, notify.ErrNoFinding) {
		t.Errorf("nil finding: err = %v, want ErrNoFinding", err)
	}
	_, err := notify.Render(notify.Notification{Finding: &asff.Finding{}, Reason: "bogus\r\n"})
	if !errors.Is(err, notify.ErrUnknownReason) || strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("unknown reason: err = %q, want ErrUnknownReason on one line", err)
	}
}

func BenchmarkRender(b *testing.B) {
	f := hostile()
	f.Resources = append(f.Resources, f.Resources[0], f.Resources[0])
	n := notify.Notification{Finding: f, Reason: notify.ReasonRenotify, Now: date("2024-02-01T00:00:00Z")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := notify.Render(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}
