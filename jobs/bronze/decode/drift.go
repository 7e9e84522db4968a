package decode

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/advertisex/adlake/schema"
)

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
func avroDrift(contract, writer map[string]string) schema.Drift {
	var d schema.Drift
	for name, t := range writer {
		ct, ok := contract[name]
		switch {
		case !ok:
			d.New = schema.AddName(d.New, name)
		case ct != t:
			d.Retyped = schema.AddName(d.Retyped, fmt.Sprintf("%s: %s -> %s", name, ct, t))
		}
	}
	for name := range contract {
		if _, ok := writer[name]; !ok {
			d.Missing = schema.AddName(d.Missing, name)
		}
	}
	return d
}
