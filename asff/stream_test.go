package asff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func envelopeOf(detailType string, findings ...string) string {
	return `{"version":"0","id":"e1","detail-type":"` + detailType + `","source":"aws.securityhub","account":"111122223333",` +
		`"resources":["arn:x"],"detail":{"actionName":"a","findings":[` + strings.Join(findings, ",") + `]}}`
}

func TestStreamShapes(t *testing.T) {
	a, b, c := minimal("a"), minimal("b"), minimal("c")
	imported := envelopeOf("Security Hub Findings - Imported", a, b)
	custom := envelopeOf("Security Hub Findings - Custom Action", c)
	getFindings := `{"Findings":[` + a + `,` + b + `],"NextToken":"tok"}`
	wrapped := `{"status_code":200,"data":{"ResponseMetadata":{"RequestId":"r"},"Findings":[` + c + `]}}`
	tests := []struct {
		name, in string
		want     []string
	}{
		{"single finding", a, []string{"F:a"}},
		{"ndjson of findings", a + "\n" + b + "\n" + c + "\n", []string{"F:a", "F:b", "F:c"}},
		{"concatenated without separators", a + b + c, []string{"F:a", "F:b", "F:c"}},
		{"crlf and blank lines", "\r\n" + a + "\r\n\r\n" + b, []string{"F:a", "F:b"}},
		{"array of findings", "[" + a + ",\n" + b + "]", []string{"F:a", "F:b"}},
		{"empty array", "[]", nil},
		{"imported event: every finding", imported, []string{"F:a", "F:b"}},
		{"custom action event", custom, []string{"F:c"}},
		{"getfindings response", getFindings, []string{"F:a", "F:b"}},
		{"custodian wrapper", wrapped, []string{"F:c"}},
		{"event detail alone", `{"actionName":"a","findings":[` + a + `,` + b + `]}`, []string{"F:a", "F:b"}},
		{"array of events", "[" + imported + "," + custom + "]", []string{"F:a", "F:b", "F:c"}},
		{"array of arrays", "[[" + a + "],[" + b + "," + c + "]]", []string{"F:a", "F:b", "F:c"}},
		{"ndjson of mixed shapes", getFindings + "\n" + custom + "\n[" + a + "]\n" + wrapped, []string{"F:a", "F:b", "F:c", "F:a", "F:c"}},
		{"several arrays", "[" + a + "]\n[" + b + "]", []string{"F:a", "F:b"}},
		{"byte order mark", "\xEF\xBB\xBF" + a, []string{"F:a"}},
		{"empty input", "", nil},
		{"only whitespace", " \n\t\r\n", nil},
		{"brackets and escapes in strings", `{"Id":"x{[\"\\","ProductArn":"p]}","Title":"\\\\\"}"}`, []string{`F:x{["\`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := streamString(t, tt.in)
			if !reflect.DeepEqual(got.order, tt.want) {
				t.Errorf("got %q, want %q", got.order, tt.want)
			}
		})
	}
}

func TestStreamProblemsAndRecovery(t *testing.T) {
	a, b := minimal("a"), minimal("b")
	tests := []struct {
		name, in string
		want     []string
		lines    []int // lines of the errors, in order
	}{
		{"missing id inside an event spoils only that finding",
			envelopeOf("Security Hub Findings - Imported", a, "\n"+`{"ProductArn":"p"}`, b),
			[]string{"F:a", "E:missing required field Id", "F:b"}, []int{2}},
		{"malformed document in ndjson, next line still decodes",
			a + "\n{\"Id\":\"x\" \"ProductArn\":\"p\"}\n" + b,
			[]string{"F:a", "E:invalid character '\"' after object key:value pair", "F:b"}, []int{2}},
		{"malformed element in an array",
			"[\n" + a + ",\n{\"Id\":\"x\",}\n,\n" + b + "\n]",
			[]string{"F:a", "E:invalid character '}' looking for beginning of object key string", "F:b"}, []int{3}},
		{"stray closing brackets between documents: one error for the run",
			a + "\n]}]\n}\n" + b,
			[]string{"F:a", "E:invalid character ']' after top-level value (skipped 6 bytes up to the next '{' or '[')", "F:b"}, []int{2}},
		{"garbage before the first document",
			"hello \"{not\" world\n" + a,
			[]string{"E:invalid character 'h' looking for beginning of value (skipped 19 bytes up to the next '{' or '[')", "F:a"}, []int{1}},
		{"trailing garbage",
			a + "\n]",
			[]string{"F:a", "E:invalid character ']' after top-level value (skipped 1 bytes to the end of input)"}, []int{2}},
		{"missing comma between array elements",
			"[" + a + "\n" + b + "]",
			[]string{"F:a", "E:invalid character '{' after array element (missing ',')", "F:b"}, []int{2}},
		{"trailing comma in array",
			"[" + a + ",\n]",
			[]string{"F:a", "E:invalid character ']' after ',' in array (trailing comma)"}, []int{2}},
		{"scalar array element",
			"[" + a + ", 42, \"x]\",\n" + b + "]",
			[]string{"F:a", "E:invalid character '4' looking for beginning of array element (skipped 2 bytes up to the next ',' or ']')",
				"E:invalid character '\"' looking for beginning of array element (skipped 4 bytes up to the next ',' or ']')", "F:b"}, []int{1, 1}},
		{"unclosed document at end of input",
			a + "\n\n" + `{"Id":"x","ProductArn":"p"`,
			[]string{"F:a", "E:unexpected end of input: value opened here is never closed"}, []int{3}},
		{"unclosed top-level array",
			"[" + a + ",\n" + b,
			[]string{"F:a", "F:b", "E:unexpected end of input: array opened here is never closed"}, []int{1}},
		{"event without findings",
			`{"detail-type":"Security Hub Insight Results","detail":{"insightName":"x"}}`,
			[]string{`E:event of detail-type "Security Hub Insight Results" carries no findings; skipped`}, []int{1}},
		{"findings event without findings",
			`{"detail-type":"Security Hub Findings - Imported","detail":{"insightName":"x"}}`,
			[]string{`E:event (detail-type "Security Hub Findings - Imported") has no detail.findings array`}, []int{1}},
		{"broken event metadata",
			`{"detail-type":"Security Hub Findings - Imported","resources":["a" "b"],"detail":{"findings":[` + a + `]}}`,
			[]string{"E:invalid character '\"' after array element"}, []int{1}},
		{"finding list entry that is not an object",
			`{"Findings":["nope",` + a + `]}`,
			[]string{"E:finding is not a JSON object", "F:a"}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := streamString(t, tt.in)
			if !reflect.DeepEqual(got.order, tt.want) {
				t.Errorf("got  %q\nwant %q", got.order, tt.want)
			}
			var lines []int
			for _, e := range got.errs {
				lines = append(lines, e.Line)
				if e.File != "input.json" {
					t.Errorf("error names file %q", e.File)
				}
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("error lines %v, want %v", lines, tt.lines)
			}
		})
	}
}

func TestStreamErrorOffsets(t *testing.T) {
	a := minimal("a")
	in := a + "\n" + a + "\n" + `{"Id":"x",` + "\n" + `"ProductArn" "p"}`
	got := streamString(t, in)
	if len(got.errs) != 1 {
		t.Fatalf("errors %v", got.errs)
	}
	wantOffset := int64(strings.Index(in, `"ProductArn" "p"`) + len(`"ProductArn" `))
	if e := got.errs[0]; e.Line != 4 || e.Offset != wantOffset {
		t.Errorf("error at line %d byte %d, want line 4 byte %d", e.Line, e.Offset, wantOffset)
	}
}

// TestStreamReadBoundaries feeds the same inputs through readers that split
// them at every byte and at odd places; results must not depend on where
// reads end (strings, escapes, brackets and lines crossing buffer edges).
func TestStreamReadBoundaries(t *testing.T) {
	tricky := `{"Id":"q\"}]\\","ProductArn":"p\\\\","Title":"\u005c\"[{","Types":["a\\"]}`
	inputs := []string{
		tricky + "\n" + tricky,
		"[" + tricky + "," + minimal("b") + "]\n]}garbage\n" + envelopeOf("Security Hub Findings - Imported", minimal("c"), `{"Id":"d"}`),
		minimal("a") + "\n{\"Id\":\"x\" \"ProductArn\":\"p\"}\n" + minimal("b"),
	}
	readers := map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for i, in := range inputs {
		want := streamString(t, in)
		if len(want.order) == 0 {
			t.Fatalf("input %d decodes to nothing", i)
		}
		for name, wrap := range readers {
			got := streamAll(t, "input.json", wrap(strings.NewReader(in)), Options{Workers: 2})
			if !reflect.DeepEqual(got.order, want.order) || !sameErrors(got.errs, want.errs) || !sameRaw(got.findings, want.findings) {
				t.Errorf("input %d via %s reader:\n got  %q\n want %q", i, name, got.order, want.order)
			}
		}
	}
}

func sameErrors(a, b []*DecodeError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if *a[i] != *b[i] {
			return false
		}
	}
	return true
}

func sameRaw(a, b []*Finding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}

func TestStreamDocumentSizeCap(t *testing.T) {
	big := `{"Id":"big","ProductArn":"p","Description":"` + strings.Repeat("x", 5000) + `"}`
	in := minimal("a") + "\n" + big + "\n" + minimal("b") + "\n[" + big + "," + minimal("c") + "]"
	got := streamAll(t, "big.json", iotest.HalfReader(strings.NewReader(in)), Options{MaxDocument: 1000})
	want := []string{"F:a", "E:document is larger than the 1000 byte limit; skipped", "F:b",
		"E:document is larger than the 1000 byte limit; skipped", "F:c"}
	if !reflect.DeepEqual(got.order, want) {
		t.Fatalf("got %q, want %q", got.order, want)
	}
	if got.errs[0].Line != 2 || !errors.Is(got.errs[0], ErrTooLarge) {
		t.Errorf("error %v: want line 2 and ErrTooLarge", got.errs[0])
	}
}

func TestStreamStopsOnCallbackError(t *testing.T) {
	var in strings.Builder
	for range 5000 {
		in.WriteString(minimal("x") + "\n")
	}
	stop := errors.New("stop here")
	calls := 0
	err := Stream(context.Background(), "in", strings.NewReader(in.String()), Options{Workers: 2}, func(Result) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Errorf("got %v after %d calls, want the callback's error after 10", err, calls)
	}
}

func TestStreamCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	defer w.Close()
	go func() {
		_, _ = io.WriteString(w, minimal("a")+"\n") // then block: no more input
	}()
	err := Stream(ctx, "pipe", r, Options{}, func(res Result) error {
		cancel() // a finding arrived although the input is still open
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestStreamReadError(t *testing.T) {
	broken := errors.New("connection reset")
	var got collected
	err := Stream(context.Background(), "s3.json", &failingReader{data: []byte(minimal("a") + "\n" + minimal("b")[:30]), err: broken},
		Options{}, func(r Result) error { got.add(t, r); return nil })
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "read s3.json") {
		t.Errorf("got %v, want a read error naming the input", err)
	}
	if !reflect.DeepEqual(got.order, []string{"F:a"}) {
		t.Errorf("results before the failure: %q", got.order)
	}
}
