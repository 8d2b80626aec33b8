package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/bolt"
)

// BenchmarkClaimConfirm is the pipeline's write path: many workers each
// claiming and confirming distinct keys (one op = one notification
// recorded), with fsync on and off.
func BenchmarkClaimConfirm(b *testing.B) {
	for _, workers := range []int{1, 8, 64} {
		for _, noSync := range []bool{false, true} {
			b.Run(fmt.Sprintf("workers=%d/nosync=%t", workers, noSync), func(b *testing.B) {
				benchClaimConfirm(b, workers, bolt.Options{NoSync: noSync})
			})
		}
	}
}

func benchClaimConfirm(b *testing.B, workers int, opts bolt.Options) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	var seq atomic.Int64
	notify := func() error {
		key := fmt.Sprintf("rule/email/finding-%d", seq.Add(1))
		c, err := s.Claim(ctx, key, store.Meta{FindingID: key, Rule: "rule", Channel: "email"}, now, time.Hour, time.Minute)
		if err != nil {
			return err
		}
		return s.Confirm(ctx, c, now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if workers == 1 {
		for range b.N {
			if err := notify(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := notify(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
}

// BenchmarkClaimDuplicate is the pipeline's common case: findings sent
// again by Security Hub while their notification is within the window.
func BenchmarkClaimDuplicate(b *testing.B) {
	const keys = 10000
	s, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	for i := range keys {
		key := fmt.Sprintf("rule/email/finding-%d", i)
		c, err := s.Claim(ctx, key, store.Meta{}, now, time.Hour, time.Minute)
		if err == nil {
			err = s.Confirm(ctx, c, now)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("rule/email/finding-%d", seq.Add(1)%keys)
			if _, err := s.Claim(ctx, key, store.Meta{}, now.Add(time.Minute), time.Hour, time.Minute); !errors.Is(err, store.ErrDuplicate) {
				b.Errorf("Claim = %v, want ErrDuplicate", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}
