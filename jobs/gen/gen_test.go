package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/advertisex/adlake/lake/objstore"
)

func generate(t *testing.T, o Options) (*objstore.Local, *Manifest) {
	t.Helper()
	b, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Run(context.Background(), b, o)
	if err != nil {
		t.Fatal(err)
	}
	return b, m
}

// digest hashes every object (key and content) in key order.
func digest(t *testing.T, b objstore.Reader) string {
	t.Helper()
	h := sha256.New()
	var keys []string
	for o, err := range b.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rc, err := b.Open(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, k)
		io.Copy(h, rc)
		rc.Close()
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	o := Options{Seed: 7, Days: 1, ImpressionsPerDay: 2000, Defects: true}
	b1, m1 := generate(t, o)
	b2, m2 := generate(t, o)
	if d1, d2 := digest(t, b1), digest(t, b2); d1 != d2 {
		t.Fatalf("same seed, different output: %s vs %s", d1, d2)
	}
	if fmt.Sprint(m1.Feeds["impressions"]) != fmt.Sprint(m2.Feeds["impressions"]) {
		t.Fatal("same seed, different manifest")
	}
	o.Seed = 8
	b3, _ := generate(t, o)
	if digest(t, b1) == digest(t, b3) {
		t.Fatal("different seeds, same output")
	}
}

func TestManifestCountsLines(t *testing.T) {
	b, m := generate(t, Options{Seed: 3, Days: 1, ImpressionsPerDay: 3000})
	var lines int64
	for _, data := range read(t, b, "impressions/") {
		lines += int64(bytes.Count(data, []byte("\n")))
	}
	imp := m.Feeds["impressions"]
	if lines != imp.Records {
		t.Fatalf("%d lines in impressions files, manifest says %d records", lines, imp.Records)
	}
	if imp.Records < 2990 || imp.Records > 3010 {
		t.Fatalf("impressions records = %d for 3000/day", imp.Records)
	}
	if imp.Valid != imp.Records || imp.MalformedRows != 0 || imp.Files != 48 || imp.Gzipped != 24 {
		t.Fatalf("clean data: %+v", imp)
	}
	if ctr := float64(m.Feeds["clicks_conversions"].Kinds["click"]) / float64(imp.Valid); ctr < 0.005 || ctr > 0.04 {
		t.Fatalf("CTR %.4f outside 0.5-4 %%", ctr)
	}
}
