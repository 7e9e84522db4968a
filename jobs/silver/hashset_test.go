package silver

import (
	"math/rand/v2"
	"testing"
)

func TestHashSetAgainstMap(t *testing.T) {
	s := newHashSet(4) // small: exercises growth
	ref := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200_000; i++ {
		h := rng.Uint64N(50_000) // repeats, and 0
		if got, want := s.add(h), !ref[h]; got != want {
			t.Fatalf("add(%d) = %v, want %v", h, got, want)
		}
		ref[h] = true
	}
	for h := uint64(0); h < 60_000; h++ {
		if s.has(h) != ref[h] {
			t.Fatalf("has(%d) = %v, want %v", h, s.has(h), ref[h])
		}
	}
}
