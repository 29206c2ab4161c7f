package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

const sourceColumns = `id, name, type, secret, options, response, limits, created, updated`

// scanSource reads one source row, its secret opened.
func (s *Store) scanSource(sc scanner) (*hookline.Source, error) {
	var (
		src          hookline.Source
		opts, resp   string
		limits       string
		created, upd int64
	)
	if err := sc.Scan(&src.ID, &src.Name, &src.Type, &src.Secret, &opts, &resp, &limits, &created, &upd); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(limits), &src.Limits); err != nil {
		return nil, fmt.Errorf("decoding source limits: %w", err)
	}
	sqlcore.OpenSource(s.seal, &src)
	if err := json.Unmarshal([]byte(opts), &src.Options); err != nil {
		return nil, fmt.Errorf("decoding source options: %w", err)
	}
	if err := json.Unmarshal([]byte(resp), &src.Response); err != nil {
		return nil, fmt.Errorf("decoding source response: %w", err)
	}
	src.Created, src.Updated = fromMS(created), fromMS(upd)
	return &src, nil
}

func sourceJSON(src *hookline.Source) (opts, resp, limits string, err error) {
	o, err := json.Marshal(src.Options)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding source options: %w", err)
	}
	r, err := json.Marshal(src.Response)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding source response: %w", err)
	}
	l, err := json.Marshal(src.Limits)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding source limits: %w", err)
	}
	return string(o), string(r), string(l), nil
}

// CreateSource inserts src.
func (s *Store) CreateSource(ctx context.Context, src *hookline.Source) error {
	opts, resp, limits, err := sourceJSON(src)
	if err != nil {
		return err
	}
	secret, err := sqlcore.SealSource(s.seal, src)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			src.ID, src.Name, src.Type, secret, opts, resp, limits, ms(src.Created), ms(src.Updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("creating source: %w", err)
	}
	return nil
}

// Source returns the source with that id.
func (s *Store) Source(ctx context.Context, id string) (*hookline.Source, error) {
	src, err := s.scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("source", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", err)
	}
	return src, nil
}

// SourceByName returns the source with that name.
func (s *Store) SourceByName(ctx context.Context, name string) (*hookline.Source, error) {
	src, err := s.scanSource(s.r.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("source", name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", err)
	}
	return src, nil
}

// ListSources returns one page of sources, newest first.
func (s *Store) ListSources(ctx context.Context, p hookline.Page) ([]*hookline.Source, bool, error) {
	q := `SELECT ` + sourceColumns + ` FROM sources WHERE 1`
	var args []any
	out, more, err := listPage(ctx, s.r, q, args, p, s.scanSource)
	if err != nil {
		return nil, false, fmt.Errorf("listing sources: %w", err)
	}
	return out, more, nil
}

// UpdateSource writes every field of src but ID and Created.
func (s *Store) UpdateSource(ctx context.Context, src *hookline.Source) error {
	opts, resp, limits, err := sourceJSON(src)
	if err != nil {
		return err
	}
	secret, err := sqlcore.SealSource(s.seal, src)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, type = ?, secret = COALESCE(?, secret), options = ?, response = ?, limits = ?, updated = ?
			WHERE id = ?`, src.Name, src.Type, secret, opts, resp, limits, ms(src.Updated), src.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hookline.NotFound("source", src.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating source: %w", err)
	}
	return nil
}

// DeleteSource removes the source and its connections and cancels their
// pending deliveries.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	now := ms(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hookline.NotFound("source", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'canceled', lease_owner = '', lease_expires = 0, next_attempt_at = 0, updated = ?
			WHERE status = 'pending' AND endpoint_id IN (SELECT id FROM connections WHERE source_id = ?)`, now, id); err != nil {
			return fmt.Errorf("canceling deliveries: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM connections WHERE source_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting source: %w", err)
	}
	return nil
}

const connectionColumns = `id, source_id, url, filter, created, updated`

func scanConnection(sc scanner) (*hookline.Connection, error) {
	var (
		c            hookline.Connection
		filter       string
		created, upd int64
	)
	if err := sc.Scan(&c.ID, &c.SourceID, &c.URL, &filter, &created, &upd); err != nil {
		return nil, err
	}
	if filter != "" {
		c.Filter = json.RawMessage(filter)
	}
	c.Created, c.Updated = fromMS(created), fromMS(upd)
	return &c, nil
}

// CreateConnection inserts c.
func (s *Store) CreateConnection(ctx context.Context, c *hookline.Connection) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sources WHERE id = ?`, c.SourceID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return &hookline.Error{Code: hookline.ENOTFOUND, Message: fmt.Sprintf("no such source: %q", c.SourceID), Param: "source_id"}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.SourceID, c.URL, string(c.Filter), ms(c.Created), ms(c.Updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("creating connection: %w", err)
	}
	return nil
}

// Connection returns the connection with that id.
func (s *Store) Connection(ctx context.Context, id string) (*hookline.Connection, error) {
	c, err := scanConnection(s.r.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("connection", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading connection: %w", err)
	}
	return c, nil
}

// ListConnections returns one page of connections, newest first.
func (s *Store) ListConnections(ctx context.Context, f hookline.ConnectionFilter) ([]*hookline.Connection, bool, error) {
	q := `SELECT ` + connectionColumns + ` FROM connections WHERE 1`
	var args []any
	if f.SourceID != "" {
		q += ` AND source_id = ?`
		args = append(args, f.SourceID)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, scanConnection)
	if err != nil {
		return nil, false, fmt.Errorf("listing connections: %w", err)
	}
	return out, more, nil
}

// UpdateConnection writes URL and Filter.
func (s *Store) UpdateConnection(ctx context.Context, c *hookline.Connection) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE connections SET url = ?, filter = ?, updated = ? WHERE id = ?`,
			c.URL, string(c.Filter), ms(c.Updated), c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hookline.NotFound("connection", c.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating connection: %w", err)
	}
	return nil
}

// DeleteConnection removes the connection and cancels its pending
// deliveries.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	now := ms(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hookline.NotFound("connection", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'canceled', lease_owner = '', lease_expires = 0, next_attempt_at = 0, updated = ?
			WHERE status = 'pending' AND endpoint_id = ?`, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting connection: %w", err)
	}
	return nil
}

// requestColumns are inbound_requests' columns, as CaptureRequest
// (internal/store/sqlcore) writes them.
const requestColumns = sqlcore.RequestColumns

func scanRequest(sc scanner) (*hookline.InboundRequest, error) {
	var (
		r        hookline.InboundRequest
		headers  string
		received int64
	)
	if err := sc.Scan(&r.ID, &r.SourceID, &r.Method, &r.Path, &r.Query, &headers, &r.Body, &r.RemoteAddr,
		&received, &r.Status, &r.Reason, &r.DedupeKey, &r.ReplayOf, &r.Size, &r.BodySHA256); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(headers), &r.Headers); err != nil {
		return nil, fmt.Errorf("decoding request headers: %w", err)
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	r.Size = max(r.Size, int64(len(r.Body))) // rows from before migration 0820 have 0
	r.Received = fromMS(received)
	return &r, nil
}

// dueOfConnectionQuery reads a connection's due deliveries in a claim.
var dueOfConnectionQuery = `SELECT d.id, d.attempts, d.ready_at, ` + sqlcore.Qualified("r", requestColumns) + `
	FROM deliveries d INDEXED BY deliveries_endpoint_ready
	JOIN inbound_requests r ON r.id = d.event_id
	WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.ready_at <= ?
	ORDER BY d.ready_at
	LIMIT ?`

// dueOfConnections appends to lists, for each connection with room under
// the default cap, the oldest due deliveries of its captured requests up to
// its room: ClaimTasks' other half, for what joins connections and
// inbound_requests instead of endpoints and events.
func (s *Store) dueOfConnections(ctx context.Context, tx *sql.Tx, req hookline.ClaimRequest, others map[string]int, nowMS int64, lists [][]dueTask) ([][]dueTask, error) {
	conns, err := queryAll(ctx, tx, `SELECT id, url FROM connections ORDER BY id`, nil, func(sc scanner) (*[2]string, error) {
		var c [2]string
		return &c, sc.Scan(&c[0], &c[1])
	})
	if err != nil {
		return nil, fmt.Errorf("listing connections: %w", err)
	}
	var stmt *sql.Stmt
	for _, c := range conns {
		connID, url := c[0], c[1]
		limit := hookline.ConcurrencyOf(&hookline.Endpoint{}, req.MaxConcurrency)
		room := req.Room(connID, limit, others[connID])
		if room == 0 {
			continue
		}
		if stmt == nil {
			stmt = tx.StmtContext(ctx, s.stmts.dueOfConnection)
		}
		exp := req.Now.Add(req.Lease)
		var list []dueTask
		err := func() error {
			rows, err := stmt.QueryContext(ctx, connID, nowMS, room)
			if err != nil {
				return fmt.Errorf("selecting due request deliveries: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var (
					dlvID    string
					attempts int
					ready    int64
				)
				r, err := scanRequest(scanFunc(func(dest ...any) error {
					return rows.Scan(append([]any{&dlvID, &attempts, &ready}, dest...)...)
				}))
				if err != nil {
					return fmt.Errorf("reading due request delivery: %w", err)
				}
				list = append(list, dueTask{task: hookline.NewRequestTask(dlvID, attempts+1, r, connID, url, exp), due: fromMS(ready)})
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			lists = append(lists, list)
		}
	}
	return lists, nil
}

// Request returns the captured request with that id.
func (s *Store) Request(ctx context.Context, id string) (*hookline.InboundRequest, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM inbound_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("request", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request: %w", err)
	}
	return r, nil
}

// ListRequests returns one page of captured requests, newest first.
func (s *Store) ListRequests(ctx context.Context, f hookline.RequestFilter) ([]*hookline.InboundRequest, bool, error) {
	q := `SELECT ` + requestColumns + ` FROM inbound_requests WHERE 1`
	var args []any
	if f.SourceID != "" {
		q += ` AND source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if !f.Since.IsZero() {
		q += ` AND received >= ?`
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND received < ?`
		args = append(args, ms(f.Until))
	}
	if f.Search != "" {
		// instr is a plain substring search: no LIKE wildcards to escape.
		q += ` AND (instr(headers, ?) > 0 OR instr(CAST(body AS TEXT), ?) > 0)`
		args = append(args, f.Search, f.Search)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, scanRequest)
	if err != nil {
		return nil, false, fmt.Errorf("listing requests: %w", err)
	}
	return out, more, nil
}

// ResendRequest makes a request due again at now.
func (s *Store) ResendRequest(ctx context.Context, requestID, connectionID string, now time.Time) ([]*hookline.Delivery, error) {
	nowMS := ms(now)
	var out []*hookline.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inbound_requests WHERE id = ?`, requestID).Scan(&n); err != nil {
			return fmt.Errorf("reading request: %w", err)
		}
		if n == 0 {
			return hookline.NotFound("request", requestID)
		}
		var targets []string
		if connectionID != "" {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM connections WHERE id = ?`, connectionID).Scan(&n); err != nil {
				return fmt.Errorf("reading connection: %w", err)
			}
			if n == 0 {
				return hookline.NotFound("connection", connectionID)
			}
			targets = []string{connectionID}
		} else {
			rows, err := tx.QueryContext(ctx, `SELECT d.endpoint_id FROM deliveries d JOIN connections c ON c.id = d.endpoint_id
				WHERE d.event_id = ? ORDER BY d.id`, requestID)
			if err != nil {
				return fmt.Errorf("reading deliveries: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return fmt.Errorf("reading deliveries: %w", err)
				}
				targets = append(targets, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("reading deliveries: %w", err)
			}
		}
		var err error
		out, err = redeliver(ctx, tx, requestID, targets, nowMS)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resending request: %w", err)
	}
	return out, nil
}
