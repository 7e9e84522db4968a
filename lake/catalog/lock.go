package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrLocked means another process holds the lock.
var ErrLocked = errors.New("another adlake process holds the lock")

// Lock takes the named lock for the whole lakehouse, without waiting: an
// advisory lock of the PostgreSQL catalog (every machine sharing the
// catalog sees it), or for a SQLite catalog an flock on a file beside it
// (one machine, as SQLite itself). Jobs that write a feed take
// "feed:<name>", so two runs of one feed never overlap; the ledgers would
// keep them from doubling rows anyway, but they would waste work, and a
// rare interleaving of two runs' quarantine commits was seen to record a
// reject twice (docs/exactly-once.md). The returned func releases it; a
// killed process releases it by dying.
func (c *Catalog) Lock(ctx context.Context, name string) (func(), error) {
	if c.pg {
		return c.pgLock(ctx, name)
	}
	path := filepath.Join(filepath.Dir(c.sqlitePath), ".adlake-lock-"+strings.NewReplacer("/", "_", ":", "_").Replace(name))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

func (c *Catalog) pgLock(ctx context.Context, name string) (func(), error) {
	conn, err := c.db.Conn(ctx)
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
