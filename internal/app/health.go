package app

import (
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

// Health reports why the node should not be sent traffic, or nil: a store
// whose background writes keep failing (hookline.BackgroundWriter) holds
// what it acknowledged in its journal, which cannot grow for long.
func (a *App) Health() error {
	bw, ok := a.cfg.Store.(hookline.BackgroundWriter)
	if !ok {
		return nil
	}
	if _, err := bw.BackgroundHealth(); err != nil {
		return fmt.Errorf("the store's background writes fail: %w", err)
	}
	return nil
}
