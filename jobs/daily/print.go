package daily

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/advertisex/adlake/schema"
)

// WriteJSON prints one JSON line per date.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, o := range r.Outcomes {
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	return nil
}

// WriteText prints a table of the dates for people.
func (r Report) WriteText(w io.Writer) error {
	if len(r.Outcomes) == 0 {
		_, err := fmt.Fprintln(w, "gold is up to date: no date to build")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tSTATUS\tCONVERSIONS\tCAMPAIGN DAYS\tFUNNEL ROWS\tSPILLS\tSECONDS\tWHY")
	for _, o := range r.Outcomes {
		why := o.Reason
		if o.Error != "" {
			why = o.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%s\n", o.Date, o.Status, o.Rows[schema.GoldAttributedConversions.String()],
			o.Rows[schema.GoldCampaignDaily.String()], o.Rows[schema.GoldBidFunnelDaily.String()], o.Spills, o.Seconds, why)
	}
	return tw.Flush()
}
