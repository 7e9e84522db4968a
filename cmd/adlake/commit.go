//go:build !faultinject

package main

import "github.com/advertisex/adlake/lake/catalog"

// committer returns the catalog the jobs load and commit through: in the
// production build, the catalog itself. Builds with the faultinject tag
// (the kill tests' binary) wrap it (faultinject.go).
func committer(cat *catalog.Catalog, _ func(string) string) jobCatalog { return cat }
