package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

func runSessions(t *testing.T, open func(t *testing.T) hookline.Store) {
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		testSessions(t, newFixture(t, open))
	})
}

// testSessions: a session is found only by its hash, under its key and
// before it expires; deleting one ends it; a purge removes the expired and
// those of another key, and nothing else.
func testSessions(t *testing.T, f *fixture) {
	live := &hookline.Session{IDHash: "aa11", KeyID: "key1", Created: base, Expires: at(12 * time.Hour)}
	expired := &hookline.Session{IDHash: "bb22", KeyID: "key1", Created: at(-13 * time.Hour), Expires: at(-time.Hour)}
	otherKey := &hookline.Session{IDHash: "cc33", KeyID: "key0", Created: base, Expires: at(12 * time.Hour)}
	toDelete := &hookline.Session{IDHash: "dd44", KeyID: "key1", Created: base, Expires: at(12 * time.Hour)}
	for _, s := range []*hookline.Session{live, expired, otherKey, toDelete} {
		if err := f.s.CreateSession(f.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, f.s.CreateSession(f.ctx, live), hookline.ECONFLICT)

	got, err := f.s.Session(f.ctx, live.IDHash, "key1", base)
	if err != nil || got.IDHash != live.IDHash || got.KeyID != "key1" {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	sameTime(t, "Created", got.Created, live.Created)
	sameTime(t, "Expires", got.Expires, live.Expires)

	for _, tc := range []struct {
		name          string
		idHash, keyID string
		now           time.Time
	}{
		{"unknown hash", "ee55", "key1", base},
		{"another key", live.IDHash, "key2", base},
		{"at its expiry", live.IDHash, "key1", live.Expires},
		{"after its expiry", live.IDHash, "key1", at(13 * time.Hour)},
		{"expired", expired.IDHash, "key1", base},
		{"signed in with an older key", otherKey.IDHash, "key1", base},
	} {
		_, err := f.s.Session(f.ctx, tc.idHash, tc.keyID, tc.now)
		if hookline.ErrorCode(err) != hookline.ENOTFOUND {
			t.Errorf("%s: Session gave %v, want ENOTFOUND", tc.name, err)
		}
	}

	if err := f.s.DeleteSession(f.ctx, toDelete.IDHash); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Session(f.ctx, toDelete.IDHash, "key1", base)
	wantCode(t, err, hookline.ENOTFOUND)
	if err := f.s.DeleteSession(f.ctx, toDelete.IDHash); err != nil {
		t.Fatalf("deleting a deleted session: %v", err)
	}

	n, err := f.s.PurgeSessions(f.ctx, "key1", base)
	if err != nil || n != 2 { // expired and otherKey
		t.Fatalf("PurgeSessions = %d, %v; want 2", n, err)
	}
	if _, err := f.s.Session(f.ctx, live.IDHash, "key1", base); err != nil {
		t.Fatalf("the live session after a purge: %v", err)
	}
	if _, err := f.s.Session(f.ctx, otherKey.IDHash, "key0", base); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("the other key's session survived the purge: %v", err)
	}
	if n, err := f.s.PurgeSessions(f.ctx, "key1", base); err != nil || n != 0 {
		t.Fatalf("second purge = %d, %v; want 0", n, err)
	}
	if n, err := f.s.PurgeSessions(f.ctx, "key1", live.Expires); err != nil || n != 1 {
		t.Fatalf("purge at the live session's expiry = %d, %v; want 1", n, err)
	}
}
