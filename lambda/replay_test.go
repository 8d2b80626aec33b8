package lambda

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"hubtriage/app"
	"hubtriage/asff"
	"hubtriage/asff/asffgen"
	"hubtriage/config"
	"hubtriage/internal/notifytest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/store/memstore"
)

// notifyKinds are the decisions that send a message.
var notifyKinds = map[string]bool{
	pipeline.DecisionNotify: true, pipeline.DecisionRenotify: true, pipeline.DecisionRecurrence: true,
}

// TestAtLeastOnceEventsEqualOneReplay checks the property the deployment
// relies on: EventBridge and Lambda deliver every event at least once, one
// event per invocation, and the result is what one `replay` of the same
// events decides, with no email sent twice.
func TestAtLeastOnceEventsEqualOneReplay(t *testing.T) {
	const n = 60
	gen := asffgen.New(7, asffgen.Options{Accounts: 3})
	events := make([][]byte, n)
	for i := range events {
		events[i] = gen.Next()
	}

	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	for i, ev := range events {
		for range 2 { // every event delivered twice in a row
			if _, err := invoke(t, h, ev); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	var fromLambda []string
	for _, rec := range r.logs.records(t) {
		if rec["msg"] == "decision" && notifyKinds[rec["decision"].(string)] {
			fromLambda = append(fromLambda, fmt.Sprint(rec["finding_id"], " ", rec["decision"]))
		}
	}

	// replay reads the password from the environment, where the Lambda never puts it.
	t.Setenv("SMTP_PASSWORD", "replay-sends-nothing")
	fromReplay := replayDecisions(t, r.configY, bytes.Join(events, []byte("\n")))
	sort.Strings(fromLambda)
	sort.Strings(fromReplay)
	t.Logf("%d events, %d notifications", n, len(fromReplay))
	if len(fromReplay) == 0 {
		t.Fatal("replay notified nothing: the generated events do not exercise the pipeline")
	}
	if fmt.Sprint(fromLambda) != fmt.Sprint(fromReplay) {
		t.Errorf("lambda notified %d times, replay %d times\nlambda: %v\nreplay: %v", len(fromLambda), len(fromReplay), fromLambda, fromReplay)
	}
	if got := len(r.smtp.Messages()); got != len(fromReplay) {
		t.Errorf("%d emails sent, want %d (one per notification)", got, len(fromReplay))
	}
}

// replayDecisions runs the config's rules over the concatenated events the
// way replay does, on an in-memory store, and returns the notifications.
func replayDecisions(t *testing.T, configYAML string, stream []byte) []string {
	t.Helper()
	cfg, err := config.Parse([]byte(configYAML))
	if err != nil {
		t.Fatal(err)
	}
	channels := map[string]notify.Channel{}
	for name := range cfg.Channels {
		channels[name] = &notifytest.Null{ChannelName: name}
	}
	p, err := pipeline.New(pipeline.Options{
		Rules: app.Rules(cfg, channels), Store: memstore.New(), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	src := func(ctx context.Context, fn func(asff.Result) error) error {
		return asff.Stream(ctx, "events", bytes.NewReader(stream), asff.Options{}, fn)
	}
	var out []string
	_, err = p.Run(context.Background(), src, func(d pipeline.Decision) error {
		if notifyKinds[d.Decision] {
			out = append(out, d.FindingID+" "+d.Decision)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
