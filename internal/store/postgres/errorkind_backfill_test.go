package postgres

import (
	"testing"

	"github.com/hookline/hookline/internal/hookline"
)

// TestErrorKindBackfill runs migration 0750 over attempts recorded before
// it, whose errors are written in any case: PostgreSQL's LIKE, unlike
// SQLite's, minds case, and both stores must classify the same text alike.
func TestErrorKindBackfill(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, Options{})
	cases := []struct{ err, want string }{
		{"Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: Connection Refused", hookline.AttemptErrorRefused},
		{"Timed out waiting for the endpoint", hookline.AttemptErrorTimeout},
		{"the local app did not answer within 14 s", hookline.AttemptErrorTimeout},
		{"dial tcp: lookup nowhere.test: No Such Host", hookline.AttemptErrorDNS},
		{"TLS: handshake failure", hookline.AttemptErrorTLS},
		{"read: Connection Reset by peer", hookline.AttemptErrorClosed},
		{"something else", hookline.AttemptErrorOther},
	}
	for i, c := range cases {
		if _, err := s.pool.Exec(ctx, `INSERT INTO attempts (id, delivery_id, event_id, endpoint_id, attempt, created,
			url, response_status, duration_ms, error, response_body) VALUES ($1, 'dlv_1', 'evt_1', 'ep_1', $2, now(),
			'http://127.0.0.1:1/', 0, 1, $3, '')`, hookline.NewID("atm"), i+1, c.err); err != nil {
			t.Fatal(err)
		}
	}
	// Back to before 0750, then migrate again.
	for _, q := range []string{`ALTER TABLE attempts DROP COLUMN error_kind`, `DELETE FROM schema_migrations WHERE version = 750`} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if done, err := s.Migrate(ctx); err != nil || len(done) != 1 {
		t.Fatalf("Migrate = %q, %v; want 0750 applied again", done, err)
	}
	for i, c := range cases {
		var got string
		if err := s.pool.QueryRow(ctx, `SELECT error_kind FROM attempts WHERE attempt = $1`, i+1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("error_kind of %q = %q, want %q", c.err, got, c.want)
		}
	}
}
