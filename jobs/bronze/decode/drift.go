package decode

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// maxDriftFields bounds the field names a Drift keeps per list, so a file
// of random keys cannot grow it without limit.
const maxDriftFields = 32

// Drift is how the fields of one file differ from the contract (SPEC §1):
// the zero value means no difference. Names of nested fields are dotted
// ("device.geo.country"). Lists are sorted and hold at most 32 names each.
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

func addName(list []string, name string) []string {
	if len(list) >= maxDriftFields {
		return list
	}
	i, found := slices.BinarySearch(list, name)
	if found {
		return list
	}
	return slices.Insert(list, i, name)
}

// avroFields flattens a record schema to dotted field name -> type name;
// optional fields (a union with null) are named by their non-null branch.
func avroFields(s avro.Schema, prefix string, out map[string]string) {
	rec, ok := nonNull(s).(*avro.RecordSchema)
	if !ok {
		return
	}
	for _, f := range rec.Fields() {
		name := prefix + f.Name()
		t := nonNull(f.Type())
		if _, nested := t.(*avro.RecordSchema); nested {
			avroFields(t, name+".", out)
			continue
		}
		out[name] = typeName(t)
	}
}

func nonNull(s avro.Schema) avro.Schema {
	u, ok := s.(*avro.UnionSchema)
	if !ok {
		return s
	}
	var branch avro.Schema
	for _, t := range u.Types() {
		if t.Type() == avro.Null {
			continue
		}
		if branch != nil {
			return s // a true union of several types
		}
		branch = t
	}
	if branch == nil {
		return s
	}
	return branch
}

func typeName(s avro.Schema) string {
	switch t := s.(type) {
	case *avro.ArraySchema:
		return "array<" + typeName(nonNull(t.Items())) + ">"
	case *avro.MapSchema:
		return "map<" + typeName(nonNull(t.Values())) + ">"
	case *avro.UnionSchema:
		names := make([]string, 0, len(t.Types()))
		for _, b := range t.Types() {
			names = append(names, typeName(b))
		}
		return "union<" + strings.Join(names, ",") + ">"
	case avro.LogicalTypeSchema:
		if l := t.Logical(); l != nil {
			return fmt.Sprintf("%s(%s)", s.Type(), l.Type())
		}
	}
	return string(s.Type())
}

// avroDrift compares a writer schema's fields with the contract's.
func avroDrift(contract, writer map[string]string) Drift {
	var d Drift
	for name, t := range writer {
		ct, ok := contract[name]
		switch {
		case !ok:
			d.New = addName(d.New, name)
		case ct != t:
			d.Retyped = addName(d.Retyped, fmt.Sprintf("%s: %s -> %s", name, ct, t))
		}
	}
	for name := range contract {
		if _, ok := writer[name]; !ok {
			d.Missing = addName(d.Missing, name)
		}
	}
	return d
}
