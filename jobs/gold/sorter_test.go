package gold

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
)

type kv struct{ k, v string }

func sortAll(t *testing.T, rows []kv, budget int64, dir string) ([]kv, SortStats) {
	t.Helper()
	s := NewSorter(SorterOptions{MemoryBudget: budget, Dir: dir})
	defer s.Close()
	for _, r := range rows {
		if err := s.Add([]byte(r.k), []byte(r.v)); err != nil {
			t.Fatal(err)
		}
	}
	it, err := s.Rows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []kv
	for it.Next() {
		out = append(out, kv{string(it.Key()), string(it.Value())})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out, s.Stats()
}

func TestSorter(t *testing.T) {
	many := make([]kv, 5000)
	for i := range many {
		// Few distinct keys, so ties abound; the value records input order.
		many[i] = kv{fmt.Sprintf("k%03d", (i*7919)%97), fmt.Sprintf("%05d", i)}
	}
	cases := []struct {
		name      string
		rows      []kv
		budget    int64
		wantSpill bool
	}{
		{name: "empty", rows: nil, budget: 1 << 20},
		{name: "one", rows: []kv{{"a", "1"}}, budget: 1 << 20},
		{name: "order", rows: []kv{{"b", "1"}, {"a", "2"}, {"c", "3"}, {"", "4"}, {"ab", "5"}}, budget: 1 << 20},
		{name: "ties keep input order", rows: []kv{{"x", "1"}, {"a", "2"}, {"x", "3"}, {"x", "4"}, {"a", "5"}}, budget: 1 << 20},
		{name: "keys shorter than 8 and zero bytes", rows: []kv{{"a\x00", "1"}, {"a", "2"}, {"a\x00\x00", "3"}, {"\x00", "4"}}, budget: 1 << 20},
		{name: "long common prefixes", rows: []kv{{"prefix-0000-b", "1"}, {"prefix-0000-a", "2"}, {"prefix-0000", "3"}}, budget: 1 << 20},
		{name: "in memory", rows: many, budget: 64 << 20},
		{name: "spilled", rows: many, budget: 8 << 10, wantSpill: true},
		{name: "a row larger than the budget", rows: []kv{{"b", string(bytes.Repeat([]byte("v"), 20000))}, {"a", "x"}}, budget: 4 << 10, wantSpill: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			want := slices.Clone(c.rows)
			slices.SortStableFunc(want, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
			got, st := sortAll(t, c.rows, c.budget, dir)
			if !slices.Equal(got, want) {
				t.Fatalf("got %d rows, first diff at %d", len(got), firstDiff(got, want))
			}
			if st.Rows != int64(len(c.rows)) || (st.SpillFiles > 0) != c.wantSpill || (st.SpillBytes > 0) != c.wantSpill {
				t.Fatalf("stats %+v, want spill %v", st, c.wantSpill)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("%d spill files left after Close", len(left))
			}
		})
	}
}

func firstDiff(a, b []kv) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSorterCleanupOnCancel: a sort abandoned mid-read (cancelled context)
// leaves no spill file once closed.
func TestSorterCleanupOnCancel(t *testing.T) {
	dir := t.TempDir()
	s := NewSorter(SorterOptions{MemoryBudget: 4 << 10, Dir: dir})
	for i := range 20000 {
		if err := s.Add([]byte(fmt.Sprintf("%08d", 20000-i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if s.Stats().SpillFiles == 0 {
		t.Fatal("expected spill files")
	}
	ctx, cancel := context.WithCancel(context.Background())
	it, err := s.Rows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for it.Next() {
	}
	if it.Err() == nil {
		t.Fatal("no error after cancel")
	}
	it.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("%d spill files left", len(left))
	}
	if err := s.Add([]byte("x"), nil); err == nil {
		t.Fatal("Add after Close succeeded")
	}
}
