package secret

import "testing"

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://adlake:secret@db:5432/cat": "postgres://adlake:***@db:5432/cat",
		"postgres://adlake@db/cat":             "postgres://adlake@db/cat",
		"./lakehouse/catalog.db":               "./lakehouse/catalog.db",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
