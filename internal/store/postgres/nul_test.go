package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/storetest"
)

// TestUnstorableTextIsInvalid: the store's backstop for text PostgreSQL
// cannot hold (the API refuses NUL where it enters): a NUL in a text
// column (SQLSTATE 22021) or in a jsonb one (22P05) is EINVALID, which the
// error table answers 400, never an internal error.
func TestUnstorableTextIsInvalid(t *testing.T) {
	t.Parallel()
	s := open(t, Options{Sealer: storetest.NewTestSealer(t)})
	now := time.Now()
	for _, c := range []struct {
		name string
		src  hookline.Source
	}{
		{"text", hookline.Source{Name: "a\x00b", Type: hookline.SourceGitHub}},
		{"jsonb", hookline.Source{Name: "jsonb", Type: hookline.SourceHMAC, Options: hookline.SourceOptions{Header: "X-\x00"}}},
	} {
		src := c.src
		src.ID, src.Secret, src.Created, src.Updated = hookline.NewID("src"), "s3cret", now, now
		err := s.CreateSource(context.Background(), &src)
		if code := hookline.ErrorCode(err); code != hookline.EINVALID {
			t.Errorf("%s: CreateSource with NUL: %v (code %q), want %s", c.name, err, code, hookline.EINVALID)
		}
	}
}
