package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

var _ hookline.Retention = (*Store)(nil)

// PurgeBefore is the shared retention (sqlcore.Shared.PurgeBefore) kept off
// what a journal replay could bring back: it first retires the segments
// whose events are old enough, then purges only below the fence of the
// segments still live, so no purged event returns after a crash.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time, limit int) (hookline.Purged, error) {
	if limit <= 0 {
		return hookline.Purged{}, nil
	}
	if err := s.retireForPurge(ctx, ms(cutoff)); err != nil {
		return hookline.Purged{}, fmt.Errorf("purging events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return s.Shared.PurgeBefore(ctx, fromMS(s.purgeFence(ms(cutoff))), limit)
}
