package silver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	agents "github.com/monperrus/crawler-user-agents"
)

// Reason codes of silver-stage rejects (SPEC §2).
const (
	ReasonMissingRequired  = "missing_required"
	ReasonInvalidTimestamp = "invalid_timestamp"
	ReasonFutureTimestamp  = "future_timestamp"
	ReasonTooLate          = "too_late"
	ReasonInvalidValue     = "invalid_value"
)

// Time rules (SPEC §2): an event may be at most 15 minutes after the end of
// its arrival hour, and at most 30 days before its start.
const (
	maxFuture = 15 * time.Minute
	maxLate   = 30 * 24 * time.Hour
)

var errTimestamp = errors.New("unparseable timestamp")

// parseTS parses the accepted timestamp forms: RFC 3339 with any offset,
// "YYYY-MM-DD HH:MM:SS[.fff]" meaning UTC, or epoch milliseconds. The
// result is UTC, truncated to microseconds.
func parseTS(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errTimestamp
	}
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errTimestamp
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	return time.Time{}, errTimestamp
}

func isDigits(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkTime applies the time rules against the arrival hour.
func checkTime(ts, arrival time.Time) (reason string, ok bool) {
	switch {
	case ts.After(arrival.Add(time.Hour + maxFuture)):
		return ReasonFutureTimestamp, false
	case ts.Before(arrival.Add(-maxLate)):
		return ReasonTooLate, false
	}
	return "", true
}

// deviceType maps every feed's device vocabulary to one: mobile, desktop,
// tablet, ctv, other, unknown. Impressions send the names in any case; bid
// requests send AdCOM symbols.
func deviceType(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "mobile", "phone", "mobile_tablet":
		return "mobile"
	case "desktop", "pc":
		return "desktop"
	case "tablet":
		return "tablet"
	case "ctv", "set_top_box":
		return "ctv"
	case "other", "connected_device", "ooh":
		return "other"
	}
	return "unknown"
}

// alpha3to2 maps the ISO 3166-1 alpha-3 codes the exchanges send.
var alpha3to2 = map[string]string{
	"USA": "US", "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "GBR": "GB", "IRL": "IE", "DEU": "DE",
	"FRA": "FR", "ESP": "ES", "ITA": "IT", "NLD": "NL", "BEL": "BE", "CHE": "CH", "AUT": "AT", "SWE": "SE",
	"NOR": "NO", "DNK": "DK", "FIN": "FI", "POL": "PL", "PRT": "PT", "IND": "IN", "CHN": "CN", "JPN": "JP",
	"KOR": "KR", "SGP": "SG", "AUS": "AU", "NZL": "NZ", "ZAF": "ZA", "ARE": "AE", "SAU": "SA", "TUR": "TR",
	"RUS": "RU", "IDN": "ID", "THA": "TH", "VNM": "VN", "PHL": "PH", "MYS": "MY", "EGY": "EG", "NGA": "NG",
	"COL": "CO", "CHL": "CL", "PER": "PE", "ISR": "IL", "UKR": "UA", "CZE": "CZ", "HUN": "HU", "ROU": "RO",
	"GRC": "GR", "HKG": "HK", "TWN": "TW", "PAK": "PK", "BGD": "BD", "KEN": "KE", "MAR": "MA",
}

// country returns the ISO alpha-2 code of an alpha-2 or alpha-3 code, or
// "" when it is neither.
func country(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	switch len(v) {
	case 2:
		return v
	case 3:
		return alpha3to2[v]
	}
	return ""
}

// cacheLimit bounds the memo maps below; they are reset when full.
const cacheLimit = 1 << 18

// pseudonymizer turns user ids into keyed hashes (HMAC-SHA256, 128 bits
// hex): stable for a key, not reversible without it. The key is never
// logged.
type pseudonymizer struct {
	key  []byte
	memo map[string]string
}

func newPseudonymizer(key string) *pseudonymizer {
	return &pseudonymizer{key: []byte(key), memo: map[string]string{}}
}

func (p *pseudonymizer) of(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := p.memo[id]; ok {
		return v
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(id))
	v := hex.EncodeToString(m.Sum(nil)[:16])
	if len(p.memo) >= cacheLimit {
		clear(p.memo)
	}
	// id may point into an Arrow buffer; a copy keeps the map from pinning it.
	p.memo[strings.Clone(id)] = v
	return v
}

// bots tells crawler user agents (the crawler-user-agents patterns),
// memoized: the same few thousand agents repeat millions of times.
type bots struct{ memo map[string]bool }

func newBots() *bots { return &bots{memo: map[string]bool{}} }

func (b *bots) is(ua string) bool {
	if ua == "" {
		return false
	}
	if v, ok := b.memo[ua]; ok {
		return v
	}
	v := agents.IsCrawler(ua)
	if len(b.memo) >= cacheLimit {
		clear(b.memo)
	}
	b.memo[strings.Clone(ua)] = v // do not pin the Arrow buffer ua points into
	return v
}
