package storetest

import (
	"context"
	"errors"
	"time"

	"hubtriage/store"
)

// Fake is a store.Store built from function fields, for unit tests of
// packages that use a store and need to inject failures. A nil field falls
// through to Base; with Base nil too, the method returns ErrNotStubbed.
type Fake struct {
	Base store.Store

	GetFunc      func(ctx context.Context, key string) (store.Record, error)
	ClaimFunc    func(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error)
	ConfirmFunc  func(ctx context.Context, c store.Claim, now time.Time) error
	ReleaseFunc  func(ctx context.Context, c store.Claim) error
	ResolveFunc  func(ctx context.Context, key string, now time.Time) (bool, error)
	ForgetFunc   func(ctx context.Context, key string) error
	RecordsFunc  func(ctx context.Context, fn func(store.Record) error) error
	PutFunc      func(ctx context.Context, e store.Entry) error
	PutIfFunc    func(ctx context.Context, e store.Entry, prev []byte) error
	GetEntryFunc func(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error)
	EntriesFunc  func(ctx context.Context, partition string, now time.Time) ([]store.Entry, error)
	DeleteFunc   func(ctx context.Context, partition, sort string) error
	CloseFunc    func() error
}

var _ store.Store = (*Fake)(nil)

// ErrNotStubbed is returned by a Fake method with neither a function nor a
// Base to call.
var ErrNotStubbed = errors.New("storetest.Fake: method not stubbed and no Base store")

// Get calls GetFunc or Base.Get.
func (f *Fake) Get(ctx context.Context, key string) (store.Record, error) {
	switch {
	case f.GetFunc != nil:
		return f.GetFunc(ctx, key)
	case f.Base != nil:
		return f.Base.Get(ctx, key)
	}
	return store.Record{}, ErrNotStubbed
}

// Claim calls ClaimFunc or Base.Claim.
func (f *Fake) Claim(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error) {
	switch {
	case f.ClaimFunc != nil:
		return f.ClaimFunc(ctx, key, meta, now, window, lease)
	case f.Base != nil:
		return f.Base.Claim(ctx, key, meta, now, window, lease)
	}
	return store.Claim{}, ErrNotStubbed
}

// Confirm calls ConfirmFunc or Base.Confirm.
func (f *Fake) Confirm(ctx context.Context, c store.Claim, now time.Time) error {
	switch {
	case f.ConfirmFunc != nil:
		return f.ConfirmFunc(ctx, c, now)
	case f.Base != nil:
		return f.Base.Confirm(ctx, c, now)
	}
	return ErrNotStubbed
}

// Release calls ReleaseFunc or Base.Release.
func (f *Fake) Release(ctx context.Context, c store.Claim) error {
	switch {
	case f.ReleaseFunc != nil:
		return f.ReleaseFunc(ctx, c)
	case f.Base != nil:
		return f.Base.Release(ctx, c)
	}
	return ErrNotStubbed
}

// Resolve calls ResolveFunc or Base.Resolve.
func (f *Fake) Resolve(ctx context.Context, key string, now time.Time) (bool, error) {
	switch {
	case f.ResolveFunc != nil:
		return f.ResolveFunc(ctx, key, now)
	case f.Base != nil:
		return f.Base.Resolve(ctx, key, now)
	}
	return false, ErrNotStubbed
}

// Forget calls ForgetFunc or Base.Forget.
func (f *Fake) Forget(ctx context.Context, key string) error {
	switch {
	case f.ForgetFunc != nil:
		return f.ForgetFunc(ctx, key)
	case f.Base != nil:
		return f.Base.Forget(ctx, key)
	}
	return ErrNotStubbed
}

// Records calls RecordsFunc or Base.Records.
func (f *Fake) Records(ctx context.Context, fn func(store.Record) error) error {
	switch {
	case f.RecordsFunc != nil:
		return f.RecordsFunc(ctx, fn)
	case f.Base != nil:
		return f.Base.Records(ctx, fn)
	}
	return ErrNotStubbed
}

// Put calls PutFunc or Base.Put.
func (f *Fake) Put(ctx context.Context, e store.Entry) error {
	switch {
	case f.PutFunc != nil:
		return f.PutFunc(ctx, e)
	case f.Base != nil:
		return f.Base.Put(ctx, e)
	}
	return ErrNotStubbed
}

// PutIf calls PutIfFunc or Base.PutIf.
func (f *Fake) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	switch {
	case f.PutIfFunc != nil:
		return f.PutIfFunc(ctx, e, prev)
	case f.Base != nil:
		return f.Base.PutIf(ctx, e, prev)
	}
	return ErrNotStubbed
}

// GetEntry calls GetEntryFunc or Base.GetEntry.
func (f *Fake) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	switch {
	case f.GetEntryFunc != nil:
		return f.GetEntryFunc(ctx, partition, sort, now)
	case f.Base != nil:
		return f.Base.GetEntry(ctx, partition, sort, now)
	}
	return store.Entry{}, ErrNotStubbed
}

// Entries calls EntriesFunc or Base.Entries.
func (f *Fake) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	switch {
	case f.EntriesFunc != nil:
		return f.EntriesFunc(ctx, partition, now)
	case f.Base != nil:
		return f.Base.Entries(ctx, partition, now)
	}
	return nil, ErrNotStubbed
}

// Delete calls DeleteFunc or Base.Delete.
func (f *Fake) Delete(ctx context.Context, partition, sort string) error {
	switch {
	case f.DeleteFunc != nil:
		return f.DeleteFunc(ctx, partition, sort)
	case f.Base != nil:
		return f.Base.Delete(ctx, partition, sort)
	}
	return ErrNotStubbed
}

// Close calls CloseFunc or Base.Close; with neither it returns nil.
func (f *Fake) Close() error {
	switch {
	case f.CloseFunc != nil:
		return f.CloseFunc()
	case f.Base != nil:
		return f.Base.Close()
	}
	return nil
}
