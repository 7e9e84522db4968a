// Package landing knows the layout of the landing zone (SPEC §1):
//
//	<root>/<feed>/dt=YYYY-MM-DD/hr=HH/<name>.<ext>[.gz]
//
// and classifies every object under the root as a landing file of a feed or
// as ignored, with the reason. It reads no content.
package landing

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// ReferencePrefix is the folder of the reference snapshots: reference/<name>/dt=.../hr=.../x.csv.
const ReferencePrefix = "reference/"

// File is a landing object that belongs to a feed.
type File struct {
	objstore.Object
	Feed   string        // "impressions", ..., or "reference/campaigns"
	Format schema.Format // content encoding
	Gzip   bool          // content is gzip-compressed
	Hour   time.Time     // arrival hour (UTC) from dt= and hr=
}

// Ignored reasons, as counted in run summaries.
const (
	IgnoreMarker    = "marker"          // _SUCCESS, _started, ...: names starting with _ or .
	IgnoreTemporary = "temporary"       // .tmp, .partial, ...
	IgnoreExtension = "other_extension" // an extension the feed does not accept
	IgnoreLayout    = "bad_layout"      // not <feed>/dt=YYYY-MM-DD/hr=HH/<name>
	IgnoreFeed      = "unknown_feed"    // a top-level folder that is no feed
)

// Classify tells whether obj is a landing file, and if not, why it is ignored.
func Classify(obj objstore.Object) (File, string) {
	parts := strings.Split(obj.Key, "/")
	name := parts[len(parts)-1]
	switch {
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "."):
		return File{}, IgnoreMarker
	case strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".partial") || strings.HasSuffix(name, ".inprogress"):
		return File{}, IgnoreTemporary
	}
	feed, format, ext, rest, ok := feedOf(parts)
	if !ok {
		return File{}, IgnoreFeed
	}
	if len(rest) != 3 {
		return File{}, IgnoreLayout
	}
	hour, err := parseHour(rest[0], rest[1])
	if err != nil {
		return File{}, IgnoreLayout
	}
	base, gz := strings.CutSuffix(name, ".gz")
	if !strings.HasSuffix(base, ext) || len(base) == len(ext) {
		return File{}, IgnoreExtension
	}
	return File{Object: obj, Feed: feed, Format: format, Gzip: gz, Hour: hour}, ""
}

func feedOf(parts []string) (feed string, format schema.Format, ext string, rest []string, ok bool) {
	if parts[0] == strings.TrimSuffix(ReferencePrefix, "/") {
		if len(parts) < 2 || parts[1] == "" {
			return "", "", "", nil, false
		}
		return ReferencePrefix + parts[1], schema.CSV, ".csv", parts[2:], true
	}
	f, ok := schema.FeedNamed(parts[0])
	if !ok {
		return "", "", "", nil, false
	}
	return f.Name, f.Format, f.Ext, parts[1:], true
}

func parseHour(dt, hr string) (time.Time, error) {
	d, ok := strings.CutPrefix(dt, "dt=")
	if !ok {
		return time.Time{}, fmt.Errorf("no dt= in %q", dt)
	}
	h, ok := strings.CutPrefix(hr, "hr=")
	if !ok || len(h) != 2 {
		return time.Time{}, fmt.Errorf("no hr=HH in %q", hr)
	}
	day, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > 23 {
		return time.Time{}, fmt.Errorf("bad hour %q", h)
	}
	return day.Add(time.Duration(n) * time.Hour), nil
}

// Key builds the landing key of a file, the inverse of Classify.
func Key(feed string, hour time.Time, name string) string {
	hour = hour.UTC()
	return fmt.Sprintf("%s/dt=%s/hr=%02d/%s", feed, hour.Format(time.DateOnly), hour.Hour(), name)
}
