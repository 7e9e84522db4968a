package alert

import (
	"math"
	"testing"

	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/schema"
)

func TestTransition(t *testing.T) {
	tests := []struct {
		prev, now Status
		want      string
	}{
		{"", Pass, ""}, {"", Warn, schema.AlertFiring}, {"", Fail, schema.AlertFiring}, {Warn, Warn, ""}, {Warn, Fail, schema.AlertFiring},
		{Fail, Warn, ""}, {Fail, Fail, ""}, {Warn, Pass, schema.AlertResolved}, {Fail, Pass, schema.AlertResolved},
	}
	for _, tc := range tests {
		got, ok := transition(tc.prev, tc.now)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("transition(%q, %q) = %q, %v; want %q", tc.prev, tc.now, got, ok, tc.want)
		}
	}
}

// The messages' states are the states ops.alerts records.
func TestStatesAgree(t *testing.T) {
	if channel.Firing != schema.AlertFiring || channel.Resolved != schema.AlertResolved {
		t.Fatalf("channel states %q/%q, ops.alerts states %q/%q", channel.Firing, channel.Resolved, schema.AlertFiring, schema.AlertResolved)
	}
}

func TestWorse(t *testing.T) {
	tests := []struct {
		s, o Status
		want bool
	}{
		{Fail, Warn, true}, {Warn, Pass, true}, {Fail, Pass, true}, {Warn, "", true},
		{Warn, Warn, false}, {Warn, Fail, false}, {Pass, Warn, false}, {Pass, "", false},
	}
	for _, tc := range tests {
		if got := tc.s.Worse(tc.o); got != tc.want {
			t.Errorf("%q.Worse(%q) = %v, want %v", tc.s, tc.o, got, tc.want)
		}
	}
}

func TestFormatNum(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{0, "0"}, {1234, "1234"}, {-3, "-3"}, {0.03, "0.03"}, {10.0 / 990, "0.0101"}, {2.0 / 3, "0.6667"}, {math.NaN(), "NaN"},
	}
	for _, tc := range tests {
		if got := formatNum(tc.x); got != tc.want {
			t.Errorf("formatNum(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}
