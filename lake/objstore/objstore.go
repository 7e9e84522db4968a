// Package objstore is the one seam between adlake and the places landing
// files live: a local folder or an S3 bucket (AWS or any S3-compatible
// server).
//
// Semantics every implementation keeps (checked by objstoretest.Run):
//   - Keys are slash-separated and relative to the store's root; they never
//     start with a slash.
//   - List yields every object under a prefix exactly once, in ascending
//     byte order of key. Listing is not a snapshot: objects written during a
//     listing may or may not appear.
//   - Objects are immutable once visible; Put makes an object visible
//     atomically (readers never see a partial object).
//   - Open of a missing key returns an error satisfying
//     errors.Is(err, ErrNotExist).
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// ErrNotExist is returned (wrapped) by Open for a key that does not exist.
var ErrNotExist = errors.New("object does not exist")

// Object describes one stored object.
type Object struct {
	Key     string    // relative to the store root
	Size    int64     // bytes as stored (compressed size for .gz)
	ModTime time.Time // last modification, as the store reports it
}

// Reader is what ingestion needs: list and read. Code that only reads asks
// for a Reader, not a Bucket.
type Reader interface {
	// List yields the objects whose keys start with prefix, in key order.
	// An error ends the sequence.
	List(ctx context.Context, prefix string) iter.Seq2[Object, error]
	// Open returns the content of key. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// String names the store for logs and messages (never with secrets).
	String() string
}

// Bucket is a Reader that can also write, used by the generator and tests.
type Bucket interface {
	Reader
	// Put stores the content of r under key, replacing nothing: keys are
	// written once. The object is visible only once Put returns nil.
	Put(ctx context.Context, key string, r io.Reader) error
}

// HumanSize formats a size in bytes for people: B, KiB, MiB or GiB.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
