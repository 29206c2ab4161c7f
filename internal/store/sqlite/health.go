package sqlite

import (
	"sync"
	"sync/atomic"
	"time"
)

// flushLogEvery is how often a flush that keeps failing is logged again.
const flushLogEvery = 10 * time.Second

// flushHealth is what the background flushes report (BackgroundHealth):
// how many failed, and the latest error while they keep failing.
type flushHealth struct {
	failures atomic.Int64
	mu       sync.Mutex
	err      error     // the latest flush's error; nil once one succeeds
	logged   time.Time // when a failure was last logged
}

// BackgroundHealth returns how many background flushes of the journal into
// SQLite have failed since Open, and the latest one's error while they keep
// failing (nil once one succeeds). See hookline.BackgroundWriter.
func (s *Store) BackgroundHealth() (int64, error) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.failures.Load(), s.health.err
}

// flushed records the outcome of a background flush: a failure is
// counted and logged, at once when flushes start failing and then every
// flushLogEvery; a success after failures is logged too.
func (s *Store) flushed(err error) {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	switch {
	case err != nil:
		n := h.failures.Add(1)
		if h.err == nil || now.Sub(h.logged) >= flushLogEvery {
			s.log.Error("flushing the journal into SQLite failed; published events stay in the journal until a flush succeeds",
				"err", err, "failures", n)
			h.logged = now
		}
	case h.err != nil:
		s.log.Info("flushing the journal into SQLite works again", "failures", h.failures.Load())
	}
	h.err = err
}
