// Package objstoretest is the acceptance suite every objstore.Bucket passes:
// the local folder in unit tests, and a real S3-compatible server in the
// integration run.
package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/advertisex/adlake/lake/objstore"
)

// Run checks the semantics documented in package objstore against b, which
// must be empty.
func Run(t *testing.T, b objstore.Bucket) {
	t.Helper()
	ctx := context.Background()
	keys := []string{
		"impressions/dt=2026-11-25/hr=13/b.json",
		"impressions/dt=2026-11-25/hr=13/a.json.gz",
		"impressions/dt=2026-11-25/hr=02/z.json",
		"clicks_conversions/dt=2026-11-25/hr=13/c.csv",
		"impressionsX/other.json",
	}
	for i, k := range keys {
		if err := b.Put(ctx, k, strings.NewReader(fmt.Sprintf("content %d of %s", i, k))); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	if err := b.Put(ctx, "big/blob.bin", bytes.NewReader(big)); err != nil {
		t.Fatalf("put big: %v", err)
	}

	t.Run("list is ordered and prefix-exact", func(t *testing.T) {
		got := listKeys(t, b, "impressions/")
		want := []string{
			"impressions/dt=2026-11-25/hr=02/z.json",
			"impressions/dt=2026-11-25/hr=13/a.json.gz",
			"impressions/dt=2026-11-25/hr=13/b.json",
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("list impressions/ = %v, want %v", got, want)
		}
		if got := listKeys(t, b, "impressions"); len(got) != 4 {
			t.Fatalf("list impressions (no slash) = %v, want 4 keys", got)
		}
		if got := listKeys(t, b, "nothing-here/"); len(got) != 0 {
			t.Fatalf("list of empty prefix = %v", got)
		}
	})
	t.Run("list reports sizes", func(t *testing.T) {
		for o, err := range b.List(ctx, "big/") {
			if err != nil {
				t.Fatal(err)
			}
			if o.Size != int64(len(big)) {
				t.Fatalf("size %d, want %d", o.Size, len(big))
			}
		}
	})
	t.Run("open returns the content", func(t *testing.T) {
		got := read(t, b, keys[1])
		if want := "content 1 of " + keys[1]; got != want {
			t.Fatalf("open = %q, want %q", got, want)
		}
		if got := read(t, b, "big/blob.bin"); got != string(big) {
			t.Fatalf("big object: %d bytes back, want %d", len(got), len(big))
		}
	})
	t.Run("open of a missing key is ErrNotExist", func(t *testing.T) {
		_, err := b.Open(ctx, "impressions/missing.json")
		if !errors.Is(err, objstore.ErrNotExist) {
			t.Fatalf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("early stop of a listing", func(t *testing.T) {
		n := 0
		for _, err := range b.List(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			t.Fatalf("n = %d", n)
		}
	})
}

func listKeys(t *testing.T, b objstore.Reader, prefix string) []string {
	t.Helper()
	var keys []string
	for o, err := range b.List(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func read(t *testing.T, b objstore.Reader, key string) string {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(data)
}
