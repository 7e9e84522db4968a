package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// tmpPrefix marks files Put is still writing; List never yields them.
const tmpPrefix = ".adlake-put-"

// Local is a Bucket over a folder of the local file system.
type Local struct {
	root string
}

var _ Bucket = (*Local)(nil)

// NewLocal returns a Bucket rooted at dir, creating dir if needed.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local store %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	return &Local{root: abs}, nil
}

// String returns the folder path.
func (l *Local) String() string { return l.root }

// List walks the folder below prefix. filepath.WalkDir visits entries in
// lexical order, which for slash-separated keys is key order.
func (l *Local) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		start := l.root
		if dir := prefix[:strings.LastIndex(prefix, "/")+1]; dir != "" {
			start = filepath.Join(l.root, filepath.FromSlash(dir))
		}
		err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
				return nil
			}
			rel, err := filepath.Rel(l.root, path)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if !strings.HasPrefix(key, prefix) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if !yield(Object{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil) {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil {
			yield(Object{}, fmt.Errorf("list %s/%s: %w", l.root, prefix, err))
		}
	}
}

// Open opens the file under key.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrNotExist)
	}
	return f, err
}

// Put writes to a temporary file in the target folder, syncs it and
// renames it into place, so the object appears whole or not at all.
func (l *Local) Put(_ context.Context, key string, r io.Reader) (err error) {
	dst := l.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, r); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: sync: %w", key, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }
