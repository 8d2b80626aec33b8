// Package bolt is the embedded store.Store: one bbolt file on local disk,
// for the daemon and the CLI on a single host.
//
// Exactly-once holds within the process (every state change is one bbolt
// write transaction, and bbolt runs one at a time) and across processes,
// because bbolt locks the file: a second process waits at most
// Options.Timeout for the first to close it, then fails with ErrLocked.
// Concurrent writes are group-committed (see groupCommit), so many
// goroutines claiming and confirming share one fsync.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"hubtriage/store"
	"hubtriage/store/writeback"
)

// Sentinel errors of Open.
var (
	// ErrLocked: another process holds the file for longer than Options.Timeout.
	ErrLocked = errors.New("locked by another process")
	// ErrFormat: the file is not a hubtriage state file this build can read.
	ErrFormat = errors.New("unsupported state file format")
)

// DefaultTimeout is how long Open waits for another process's lock when
// Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// formatVersion is the layout of the buckets and values below; a file
// recording another version is refused rather than misread.
const formatVersion = "1"

// Bucket and key names of the layout.
var (
	bucketMeta  = []byte("meta")
	bucketDedup = []byte("dedup")
	bucketIndex = []byte("index")
	keyFormat   = []byte("format")
)

// Options tunes Open. The zero value is right for production.
type Options struct {
	// Timeout bounds the wait for a lock held by another process
	// (zero: DefaultTimeout).
	Timeout time.Duration
	// NoSync skips the fsync after each commit: faster, but a crash may
	// lose recent notifications' records. For tests and benchmarks.
	NoSync bool
	// ReadOnly opens the file without writing to it, ever: no layout is
	// created, no expired entry purged, no claim taken over; every write
	// fails. A dry run reads its state this way (through store/scratch).
	ReadOnly bool
	// Now is the backend's clock, used where the contract takes no now
	// (claim expiry in Get, liveness in PutIf); nil means time.Now. Replays
	// with a fixed clock pass theirs so expiry agrees with their decisions.
	Now func() time.Time
}

// Store is a store.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	db       *bbolt.DB
	path     string
	commits  groupCommit
	wallNow  func() time.Time
	readOnly bool
	tookOver int
	buf      *writeback.Index // index writes not yet committed (see buffer.go)
}

// ErrReadOnly is returned by every write to a store opened ReadOnly.
var ErrReadOnly = errors.New("state file opened read-only")

var _ store.Store = (*Store)(nil)

// Open opens or creates the state file at path.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      timeout,
		NoSync:       opts.NoSync,
		FreelistType: bbolt.FreelistMapType,
		ReadOnly:     opts.ReadOnly,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open state file %s: %w (gave up after %s; only one process may use a bolt store at a time)", path, ErrLocked, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, path: path, commits: groupCommit{db: db}, wallNow: now, readOnly: opts.ReadOnly}
	s.buf = newBuffer(s, now)
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return s, nil
}

// init checks the layout (creating it in a new file) and, unless
// read-only, takes over the claims a dead process left.
func (s *Store) init() error {
	if s.readOnly {
		return s.db.View(checkLayout)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := initLayout(tx); err != nil {
			return err
		}
		n, err := takeOver(tx.Bucket(bucketDedup))
		s.tookOver = n
		return err
	})
}

// TookOver is how many claims Open found and dropped. bbolt lets one
// process at a time hold the file, so every claim in it when it is opened
// was left by a process that died between claiming and settling: its
// notification may or may not have reached the channel. Dropping the claim
// lets the next occurrence of the finding (a rerun, the daemon's next poll
// from its last checkpoint) deliver it at once instead of waiting out the
// lease: at least once, never lost.
func (s *Store) TookOver() int { return s.tookOver }

// checkLayout checks, in a read-only file, what initLayout would create.
func checkLayout(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("%w: no format version; not a hubtriage state file", ErrFormat)
	}
	if v := meta.Get(keyFormat); string(v) != formatVersion {
		return fmt.Errorf("%w: format version %q, this build reads %q", ErrFormat, v, formatVersion)
	}
	for _, name := range [][]byte{bucketDedup, bucketIndex} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: no bucket %q", ErrFormat, name)
		}
	}
	return nil
}

// initLayout creates the buckets of a new file, or checks that an existing
// one has a format this build reads.
func initLayout(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			return fmt.Errorf("%w: bucket %q but no format version; not a hubtriage state file", ErrFormat, name)
		}); err != nil {
			return err
		}
		var err error
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(formatVersion)); err != nil {
			return err
		}
	}
	if v := meta.Get(keyFormat); string(v) != formatVersion {
		return fmt.Errorf("%w: format version %q, this build reads %q", ErrFormat, v, formatVersion)
	}
	for _, name := range [][]byte{bucketDedup, bucketIndex} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return nil
}

// Path is the file the store is in.
func (s *Store) Path() string { return s.path }

// Close commits the buffered index writes, then releases the file and
// its lock.
func (s *Store) Close() error {
	ferr := s.Flush(context.Background())
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state file %s: %w", s.path, err)
	}
	if ferr != nil {
		return fmt.Errorf("close state file %s: %w", s.path, ferr)
	}
	return nil
}

// write runs fn in a write transaction shared with concurrent writes; see
// groupCommit.run for what fn must respect.
func (s *Store) write(fn func(*bbolt.Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.commits.run(fn)
}

// fail wraps a storage error with the file and the operation.
func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("state file %s: %s: %w", s.path, op, err)
}
