// Package secret keeps credentials out of everything adlake prints, logs
// or stores: it is the one place that knows what a secret looks like in a
// configuration value.
package secret

import "strings"

// Redact hides the password of a database or service URL
// (postgres://user:***@host/db); other strings are returned as they are.
func Redact(uri string) string {
	at := strings.LastIndex(uri, "@")
	scheme := strings.Index(uri, "://")
	if at < 0 || scheme < 0 {
		return uri
	}
	cred := uri[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return uri[:scheme+3] + user + ":***" + uri[at:]
	}
	return uri
}
