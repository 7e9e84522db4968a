package gold

// hashIndex maps 64-bit hashes to a small value with open addressing and
// linear probing over flat slices (10 bytes a slot, at most 70 % full): a
// Go map needs several times that for the tens of millions of bid requests
// of a large day. Hash 0 marks an empty slot, so a key hashing to 0 is
// stored as 1 (another collision, as unlikely as any other).
type hashIndex struct {
	keys []uint64
	vals []uint16
	n    int
}

func newHashIndex(hint int) *hashIndex {
	size := 1024
	for size*7/10 < hint {
		size <<= 1
	}
	return &hashIndex{keys: make([]uint64, size), vals: make([]uint16, size)}
}

// put sets the value of h (the first value put wins).
func (x *hashIndex) put(h uint64, v uint16) {
	if h == 0 {
		h = 1
	}
	if (x.n+1)*10 > len(x.keys)*7 {
		x.grow()
	}
	mask := uint64(len(x.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.keys[i] {
		case 0:
			x.keys[i], x.vals[i] = h, v
			x.n++
			return
		case h:
			return
		}
	}
}

// get returns the value of h and whether h is present.
func (x *hashIndex) get(h uint64) (uint16, bool) {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(x.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.keys[i] {
		case 0:
			return 0, false
		case h:
			return x.vals[i], true
		}
	}
}

func (x *hashIndex) grow() {
	old, oldv := x.keys, x.vals
	x.keys, x.vals, x.n = make([]uint64, 2*len(old)), make([]uint16, 2*len(old)), 0
	for i, h := range old {
		if h != 0 {
			x.put(h, oldv[i])
		}
	}
}
