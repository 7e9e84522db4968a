// Package lock coordinates adlake processes: named locks for the whole
// lakehouse, taken without waiting. A job that writes a feed takes
// "feed:<name>", gold takes "gold", maintenance takes the locks of the
// tables it rewrites, so two runs of the same work never overlap. The
// ledgers would keep them from doubling rows anyway; the locks keep them
// from wasting work and from racing on ops rows (docs/exactly-once.md).
package lock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// ErrLocked means another process holds the lock. It is a
// catalog.ErrConflict: running again later is safe.
var ErrLocked = fmt.Errorf("another adlake process holds the lock: %w", catalog.ErrConflict)

// Locker takes named locks. Lock returns at once: the release function,
// or an error wrapping ErrLocked when another process holds the lock. A
// process that dies releases its locks by dying.
type Locker interface {
	Lock(ctx context.Context, name string) (release func(), err error)
}

// For returns the locks of the lakehouse whose catalog is cat: advisory
// locks of a PostgreSQL catalog (every machine sharing the catalog sees
// them), or, for a SQLite catalog, flocks on files beside it (one machine,
// as SQLite itself).
func For(cat *catalog.Catalog) Locker {
	if db, ok := cat.Postgres(); ok {
		return pgLocker{db}
	}
	return fileLocker{dir: filepath.Dir(cat.SQLitePath())}
}

// All takes the named locks in a fixed (sorted) order, so two processes
// asking for overlapping sets never deadlock; on failure it releases what
// it took. The returned function releases them all.
func All(ctx context.Context, l Locker, names ...string) (func(), error) {
	sorted := slices.Sorted(slices.Values(names))
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	for _, n := range slices.Compact(sorted) {
		u, err := l.Lock(ctx, n)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, u)
	}
	return release, nil
}

// Gold is the lock of gold builds (the daily job, backfills).
const Gold = "gold"

// Feed names the lock of a feed's ingestion.
func Feed(name string) string { return "feed:" + name }

// Feeds names the locks of feeds.
func Feeds(feeds []schema.Feed) []string {
	out := make([]string, len(feeds))
	for i, f := range feeds {
		out[i] = Feed(f.Name)
	}
	return out
}

type fileLocker struct{ dir string }

func (f fileLocker) Lock(_ context.Context, name string) (func(), error) {
	path := filepath.Join(f.dir, ".adlake-lock-"+strings.NewReplacer("/", "_", ":", "_").Replace(name))
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fh.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() {
		_ = syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		_ = fh.Close()
	}, nil
}

type pgLocker struct{ db *sql.DB }

func (p pgLocker) Lock(ctx context.Context, name string) (func(), error) {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", "adlake:"+name).Scan(&ok); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("%w: %s", ErrLocked, name)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", "adlake:"+name)
		_ = conn.Close()
	}, nil
}
