package schema

import (
	"embed"
	"fmt"
)

//go:embed contracts/*.avsc
var contracts embed.FS

// BidRequestContract returns the Avro writer schema text of the given
// bid_request contract version (1 or 2), as the producers publish it.
func BidRequestContract(version int) (string, error) {
	b, err := contracts.ReadFile(fmt.Sprintf("contracts/bid_request.v%d.avsc", version))
	if err != nil {
		return "", fmt.Errorf("bid_request contract v%d: %w", version, err)
	}
	return string(b), nil
}
