package app

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// StatsDay is the window the endpoint list's success rates and latencies
// cover.
const StatsDay = 24 * time.Hour

// Backlog returns the deliveries waiting now and the age of the oldest.
func (a *App) Backlog(ctx context.Context) (hookline.Backlog, error) {
	return a.cfg.Store.Backlog(ctx)
}

// AttemptStats returns the attempts of f's window in buckets of f.Step.
func (a *App) AttemptStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.StatsBucket, error) {
	return a.cfg.Store.AttemptStats(ctx, f)
}

// BacklogStats returns the backlog recorded over f's window in buckets of
// f.Step.
func (a *App) BacklogStats(ctx context.Context, f hookline.StatsFilter) ([]hookline.BacklogBucket, error) {
	return a.cfg.Store.BacklogStats(ctx, f)
}

// EndpointsDay returns each of the endpoints' attempts over the last
// StatsDay, keyed by endpoint id; an endpoint without attempts is absent.
func (a *App) EndpointsDay(ctx context.Context, endpointIDs []string) (map[string]hookline.StatsBucket, error) {
	return a.cfg.Store.EndpointStats(ctx, a.cfg.Now().Add(-StatsDay), endpointIDs)
}

// ListAttempts returns a page of attempts at any event or request, newest
// first (the live tail's backlog).
func (a *App) ListAttempts(ctx context.Context, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	return a.cfg.Store.ListAttempts(ctx, f)
}
