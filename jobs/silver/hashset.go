package silver

// hashSet is a set of 64-bit hashes with open addressing and linear
// probing over one flat slice: for keys that are already uniformly
// distributed hashes, it needs one memory access per lookup where a Go map
// needs several (measured: the pass-local dedup set was 10 % of silver
// CPU). 0 is stored out of band, as the empty-slot marker.
type hashSet struct {
	slots   []uint64
	n       int
	hasZero bool
}

func newHashSet(hint int) *hashSet {
	size := 1024
	for size < 2*hint {
		size <<= 1
	}
	return &hashSet{slots: make([]uint64, size)}
}

// add inserts h and reports whether it was new.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		was := s.hasZero
		s.hasZero = true
		return !was
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return true
		case h:
			return false
		}
	}
}

// has reports whether h is in the set.
func (s *hashSet) has(h uint64) bool {
	if h == 0 {
		return s.hasZero
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case h:
			return true
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}
