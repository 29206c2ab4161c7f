package inbound

import (
	"context"
	"log/slog"

	"github.com/hookline/hookline/internal/hookline"
)

// Connections lists a source's connections (a hookline.Store does).
type Connections interface {
	ListConnections(ctx context.Context, f hookline.ConnectionFilter) ([]*hookline.Connection, bool, error)
}

// MatchingConnections returns the ids of the source's connections whose
// filters in satisfies, reading them a page at a time. A filter that does
// not parse is logged and skipped: one bad connection must not stop the
// others.
func MatchingConnections(ctx context.Context, store Connections, logger *slog.Logger, sourceID string, in *Input) ([]string, error) {
	var ids []string
	f := hookline.ConnectionFilter{SourceID: sourceID, Page: hookline.Page{Limit: 100}}
	for {
		list, more, err := store.ListConnections(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			filter, err := ParseFilter(c.Filter)
			if err != nil {
				logger.Warn("connection filter does not parse; skipping it", "connection", c.ID, "err", err)
				continue
			}
			if filter.Match(in) {
				ids = append(ids, c.ID)
			}
		}
		if !more || len(list) == 0 {
			return ids, nil
		}
		f.StartingAfter = list[len(list)-1].ID
	}
}
