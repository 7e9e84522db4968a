package schema

import (
	"slices"
	"strings"
)

// MaxDriftFields bounds the field names a Drift keeps per list, so a file
// of random keys cannot grow it without limit.
const MaxDriftFields = 32

// Drift is how the fields of one landing file differ from its feed's
// contract (SPEC §1): the zero value means no difference. Names of nested
// fields are dotted ("device.geo.country"). Lists are sorted and hold at
// most MaxDriftFields names each (see AddName).
type Drift struct {
	New     []string `json:"new,omitempty"`     // fields the contract does not name
	Missing []string `json:"missing,omitempty"` // contract fields the file lacks (CSV header, Avro writer schema)
	Retyped []string `json:"retyped,omitempty"` // "field: contract type -> file type" (Avro)
}

// Empty reports whether the file matched the contract.
func (d Drift) Empty() bool { return len(d.New)+len(d.Missing)+len(d.Retyped) == 0 }

// String is a stable one-line form, usable as a key.
func (d Drift) String() string {
	var parts []string
	add := func(label string, names []string) {
		if len(names) > 0 {
			parts = append(parts, label+" "+strings.Join(names, ","))
		}
	}
	add("new", d.New)
	add("missing", d.Missing)
	add("retyped", d.Retyped)
	return strings.Join(parts, "; ")
}

// AddName inserts name into the sorted list, once, unless the list holds
// MaxDriftFields names already.
func AddName(list []string, name string) []string {
	if len(list) >= MaxDriftFields {
		return list
	}
	i, found := slices.BinarySearch(list, name)
	if found {
		return list
	}
	return slices.Insert(list, i, name)
}
