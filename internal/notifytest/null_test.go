package notifytest_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"hubtriage/asff"
	"hubtriage/internal/notifytest"
	"hubtriage/notify"
)

func TestNullCountsAcceptedNotificationsConcurrently(t *testing.T) {
	c := &notifytest.Null{Render: true}
	n := notify.Notification{Finding: &asff.Finding{Title: "t"}, Reason: notify.ReasonNew}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, err := c.Notify(context.Background(), n); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if c.Sent() != 800 || c.Name() != "null" {
		t.Fatalf("sent=%d name=%q, want 800 and null", c.Sent(), c.Name())
	}
}

func TestNullRefusesWhatCannotBeSent(t *testing.T) {
	c := &notifytest.Null{ChannelName: "bench", Render: true}
	if retry, err := c.Notify(context.Background(), notify.Notification{}); !errors.Is(err, notify.ErrNoFinding) || retry {
		t.Errorf("nil finding: retry=%v err=%v, want permanent ErrNoFinding", retry, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if retry, err := c.Notify(ctx, notify.Notification{Finding: &asff.Finding{}}); !errors.Is(err, context.Canceled) || !retry {
		t.Errorf("cancelled: retry=%v err=%v, want retryable context.Canceled", retry, err)
	}
	if c.Sent() != 0 || c.Name() != "bench" {
		t.Fatalf("sent=%d name=%q", c.Sent(), c.Name())
	}
}
