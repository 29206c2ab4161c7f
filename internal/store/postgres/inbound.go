package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

const sourceColumns = `id, name, type, secret, options, response, limits, created, updated`

// scanSource reads one source row, its secret opened.
func (s *Store) scanSource(row pgx.Row) (*hookline.Source, error) {
	var (
		src          hookline.Source
		created, upd time.Time
	)
	if err := row.Scan(&src.ID, &src.Name, &src.Type, &src.Secret, &src.Options, &src.Response, &src.Limits, &created, &upd); err != nil {
		return nil, err
	}
	sqlcore.OpenSource(s.seal, &src)
	src.Created, src.Updated = created.UTC(), upd.UTC()
	return &src, nil
}

// notFound turns pgx.ErrNoRows into ENOTFOUND for kind and id.
func notFound(err error, kind, id string) error {
	if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
		return hookline.NotFound(kind, id)
	}
	return err
}

// CreateSource inserts src.
func (s *Store) CreateSource(ctx context.Context, src *hookline.Source) error {
	secret, err := sqlcore.SealSource(s.seal, src)
	if err != nil {
		return fmt.Errorf("creating source: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		src.ID, src.Name, src.Type, secret, src.Options, src.Response, src.Limits, ts(src.Created), ts(src.Updated))
	if err != nil {
		return fmt.Errorf("creating source: %w", translate(err))
	}
	return nil
}

// Source returns the source with that id.
func (s *Store) Source(ctx context.Context, id string) (*hookline.Source, error) {
	src, err := s.scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", notFound(err, "source", id))
	}
	return src, nil
}

// SourceByName returns the source with that name.
func (s *Store) SourceByName(ctx context.Context, name string) (*hookline.Source, error) {
	src, err := s.scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE name = $1`, name))
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", notFound(err, "source", name))
	}
	return src, nil
}

// ListSources returns one page of sources, newest first.
func (s *Store) ListSources(ctx context.Context, p hookline.Page) ([]*hookline.Source, bool, error) {
	list, more, err := listPage(ctx, s.pool, p, s.scanSource, `SELECT `+sourceColumns+` FROM sources
		WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2`, p.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing sources: %w", err)
	}
	return list, more, nil
}

// UpdateSource writes every field of src but ID and Created.
func (s *Store) UpdateSource(ctx context.Context, src *hookline.Source) error {
	secret, err := sqlcore.SealSource(s.seal, src)
	if err != nil {
		return fmt.Errorf("updating source: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sources SET name = $1, type = $2, secret = COALESCE($3, secret), options = $4, response = $5, limits = $6, updated = $7
		WHERE id = $8`, src.Name, src.Type, secret, src.Options, src.Response, src.Limits, ts(src.Updated), src.ID)
	if err != nil {
		return fmt.Errorf("updating source: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("updating source: %w", hookline.NotFound("source", src.ID))
	}
	return nil
}

// DeleteSource removes the source and its connections and cancels their
// pending deliveries.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	now := ts(s.now())
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sources WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return hookline.NotFound("source", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'canceled', lease_owner = '', lease_expires = NULL,
			next_attempt_at = NULL, ready_at = NULL, updated = $2
			WHERE status = 'pending' AND endpoint_id IN (SELECT id FROM connections WHERE source_id = $1)`, id, now); err != nil {
			return fmt.Errorf("canceling deliveries: %w", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM connections WHERE source_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting source: %w", err)
	}
	return nil
}

const connectionColumns = `id, source_id, url, filter, created, updated`

func scanConnection(row pgx.Row) (*hookline.Connection, error) {
	var (
		c            hookline.Connection
		filter       string
		created, upd time.Time
	)
	if err := row.Scan(&c.ID, &c.SourceID, &c.URL, &filter, &created, &upd); err != nil {
		return nil, err
	}
	if filter != "" {
		c.Filter = json.RawMessage(filter)
	}
	c.Created, c.Updated = created.UTC(), upd.UTC()
	return &c, nil
}

// CreateConnection inserts c.
func (s *Store) CreateConnection(ctx context.Context, c *hookline.Connection) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO connections (`+connectionColumns+`)
		SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM sources WHERE id = $2)`,
		c.ID, c.SourceID, c.URL, string(c.Filter), ts(c.Created), ts(c.Updated))
	if err != nil {
		return fmt.Errorf("creating connection: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("creating connection: %w",
			&hookline.Error{Code: hookline.ENOTFOUND, Message: fmt.Sprintf("no such source: %q", c.SourceID), Param: "source_id"})
	}
	return nil
}

// Connection returns the connection with that id.
func (s *Store) Connection(ctx context.Context, id string) (*hookline.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("reading connection: %w", notFound(err, "connection", id))
	}
	return c, nil
}

// ListConnections returns one page of connections, newest first.
func (s *Store) ListConnections(ctx context.Context, f hookline.ConnectionFilter) ([]*hookline.Connection, bool, error) {
	list, more, err := listPage(ctx, s.pool, f.Page, scanConnection, `SELECT `+connectionColumns+` FROM connections
		WHERE ($1 = '' OR source_id = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`,
		f.SourceID, f.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing connections: %w", err)
	}
	return list, more, nil
}

// UpdateConnection writes URL and Filter.
func (s *Store) UpdateConnection(ctx context.Context, c *hookline.Connection) error {
	tag, err := s.pool.Exec(ctx, `UPDATE connections SET url = $1, filter = $2, updated = $3 WHERE id = $4`,
		c.URL, string(c.Filter), ts(c.Updated), c.ID)
	if err != nil {
		return fmt.Errorf("updating connection: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("updating connection: %w", hookline.NotFound("connection", c.ID))
	}
	return nil
}

// DeleteConnection removes the connection and cancels its pending
// deliveries.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	return s.deleteTarget(ctx, "connections", "connection", id)
}

// requestColumns are inbound_requests' columns, as CaptureRequest
// (internal/store/sqlcore) writes them.
const requestColumns = sqlcore.RequestColumns

func requestDest(r *hookline.InboundRequest, received *time.Time) []any {
	return []any{&r.ID, &r.SourceID, &r.Method, &r.Path, &r.Query, &r.Headers, &r.Body, &r.RemoteAddr,
		received, &r.Status, &r.Reason, &r.DedupeKey, &r.ReplayOf, &r.Size, &r.BodySHA256}
}

func scanRequest(row pgx.Row) (*hookline.InboundRequest, error) {
	var (
		r        hookline.InboundRequest
		received time.Time
	)
	if err := row.Scan(requestDest(&r, &received)...); err != nil {
		return nil, err
	}
	fixRequest(&r, received)
	return &r, nil
}

func fixRequest(r *hookline.InboundRequest, received time.Time) {
	r.Received = received.UTC()
	if r.Body == nil {
		r.Body = []byte{}
	}
	r.Size = max(r.Size, int64(len(r.Body))) // rows from before migration 0820 have 0
}

// claimRequestTasks leases up to limit due deliveries of captured requests
// for the connections in t, which ClaimTasks' statement for endpoints
// (it joins endpoints and events) leaves out.
func (s *Store) claimRequestTasks(ctx context.Context, tx pgx.Tx, req hookline.ClaimRequest, limit int, t claimTargets) ([]*hookline.Task, error) {
	rows, err := tx.Query(ctx, fairPick+`
		SELECT l.id, l.attempts, l.exp, c.id, c.url, `+sqlcore.Qualified("r", requestColumns)+`
		FROM leased l
		JOIN connections c ON c.id = l.endpoint_id
		JOIN inbound_requests r ON r.id = l.event_id
		ORDER BY l.due, l.id`, t.ids, t.rooms, t.exps, ts(req.Now), limit, req.Owner, t.headsOrNone())
	if err != nil {
		return nil, fmt.Errorf("claiming request tasks: %w", err)
	}
	tasks, err := collect(rows, func(row pgx.Row) (*hookline.Task, error) {
		var (
			r                  hookline.InboundRequest
			received, exp      time.Time
			dlvID, connID, url string
			attempts           int
		)
		dest := append([]any{&dlvID, &attempts, &exp, &connID, &url}, requestDest(&r, &received)...)
		if err := row.Scan(dest...); err != nil {
			return nil, err
		}
		fixRequest(&r, received)
		return hookline.NewRequestTask(dlvID, attempts+1, &r, connID, url, exp), nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming request tasks: %w", err)
	}
	return tasks, nil
}

// Request returns the captured request with that id.
func (s *Store) Request(ctx context.Context, id string) (*hookline.InboundRequest, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM inbound_requests WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("reading request: %w", notFound(err, "request", id))
	}
	return r, nil
}

// ListRequests returns one page of captured requests, newest first.
func (s *Store) ListRequests(ctx context.Context, f hookline.RequestFilter) ([]*hookline.InboundRequest, bool, error) {
	// strpos is a plain substring search: no LIKE wildcards to escape. The
	// body is searched as text only where it is valid UTF-8.
	list, more, err := listPage(ctx, s.pool, f.Page, scanRequest, `SELECT `+requestColumns+` FROM inbound_requests
		WHERE ($1 = '' OR source_id = $1) AND ($2 = '' OR status = $2)
			AND ($3::timestamptz IS NULL OR received >= $3) AND ($4::timestamptz IS NULL OR received < $4)
			AND ($5 = '' OR strpos(headers::text, $5) > 0 OR strpos(encode(body, 'escape'), $5) > 0)
			AND ($6 = '' OR id < $6)
		ORDER BY id DESC LIMIT $7`,
		f.SourceID, f.Status, ts(f.Since), ts(f.Until), f.Search, f.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing requests: %w", err)
	}
	return list, more, nil
}

// ResendRequest makes a request due again at now.
func (s *Store) ResendRequest(ctx context.Context, requestID, connectionID string, now time.Time) ([]*hookline.Delivery, error) {
	var out []*hookline.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM inbound_requests WHERE id = $1`, requestID).Scan(&n); err != nil {
			return fmt.Errorf("reading request: %w", err)
		}
		if n == 0 {
			return hookline.NotFound("request", requestID)
		}
		var targets []string
		if connectionID != "" {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM connections WHERE id = $1`, connectionID).Scan(&n); err != nil {
				return fmt.Errorf("reading connection: %w", err)
			}
			if n == 0 {
				return hookline.NotFound("connection", connectionID)
			}
			targets = []string{connectionID}
		} else {
			rows, err := tx.Query(ctx, `SELECT d.endpoint_id FROM deliveries d JOIN connections c ON c.id = d.endpoint_id
				WHERE d.event_id = $1 ORDER BY d.id`, requestID)
			if err != nil {
				return fmt.Errorf("reading deliveries: %w", err)
			}
			if targets, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return fmt.Errorf("reading deliveries: %w", err)
			}
		}
		for _, target := range targets {
			d, err := scanDelivery(tx.QueryRow(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts,
					next_attempt_at, lease_owner, lease_expires, ready_at, paused, created, updated)
				VALUES ($1, $2, $3, 'pending', 0, $4, '', NULL, $4, false, $4, $4)
				ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending',
					next_attempt_at = excluded.next_attempt_at, lease_owner = '', lease_expires = NULL,
					ready_at = excluded.ready_at, updated = excluded.updated,
					pending_since = `+requeuedSince+`
				RETURNING `+deliveryColumns, hookline.NewID("dlv"), requestID, target, ts(now)))
			if err != nil {
				return fmt.Errorf("resending to %s: %w", target, err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resending request: %w", err)
	}
	return out, nil
}
