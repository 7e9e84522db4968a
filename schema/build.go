package schema

import (
	"github.com/apache/iceberg-go"
)

// icebergField is a column declaration.
type icebergField = iceberg.NestedField

// Small constructors keep the table declarations readable. IDs are left at
// zero and assigned by [fresh]; every field is optional unless built with
// [required].

func col(name string, t iceberg.Type, doc string) iceberg.NestedField {
	return iceberg.NestedField{Name: name, Type: t, Doc: doc}
}

func str(name, doc string) iceberg.NestedField { return col(name, iceberg.PrimitiveTypes.String, doc) }
func i64(name, doc string) iceberg.NestedField { return col(name, iceberg.PrimitiveTypes.Int64, doc) }
func i32(name, doc string) iceberg.NestedField { return col(name, iceberg.PrimitiveTypes.Int32, doc) }
func f64(name, doc string) iceberg.NestedField { return col(name, iceberg.PrimitiveTypes.Float64, doc) }
func boolean(name, doc string) iceberg.NestedField {
	return col(name, iceberg.PrimitiveTypes.Bool, doc)
}
func date(name, doc string) iceberg.NestedField { return col(name, iceberg.PrimitiveTypes.Date, doc) }
func tstz(name, doc string) iceberg.NestedField {
	return col(name, iceberg.PrimitiveTypes.TimestampTz, doc)
}

func structOf(name, doc string, fields ...iceberg.NestedField) iceberg.NestedField {
	return col(name, &iceberg.StructType{FieldList: fields}, doc)
}

func listOf(name, doc string, elem iceberg.Type) iceberg.NestedField {
	return col(name, &iceberg.ListType{Element: elem, ElementRequired: true}, doc)
}

func required(f iceberg.NestedField) iceberg.NestedField {
	f.Required = true
	return f
}

// fresh numbers the fields 1..n depth-first, exactly as a catalog would on
// create, so that the IDs in this package equal the IDs in the catalog.
func fresh(fields ...iceberg.NestedField) *iceberg.Schema {
	sc, err := iceberg.AssignFreshSchemaIDs(iceberg.NewSchema(0, fields...), nil)
	if err != nil {
		// The declarations are constants of this package; a failure is a
		// programming error caught by the package's tests.
		panic("schema: invalid declaration: " + err.Error())
	}
	return sc
}
