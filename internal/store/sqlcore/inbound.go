package sqlcore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// RequestColumns are the columns of inbound_requests, in the order both
// stores scan them.
const RequestColumns = `id, source_id, method, path, query, headers, body, remote_addr, received, status, reason, dedupe_key, replay_of, size, body_sha256`

// CaptureRequest stores r and its deliveries, one to each of
// opts.ConnectionIDs that still exists, in one transaction; a request
// whose provider delivery id was seen within opts.DedupeWindow is stored
// as a duplicate, without deliveries. Deliveries leased to
// opts.LeaseOwner come back as tasks for its engine.
func (s *Shared) CaptureRequest(ctx context.Context, r *hookline.InboundRequest, opts hookline.CaptureOptions) (hookline.Captured, error) {
	d := s.cfg.Dialect
	// The text columns hold what a stranger sent (a path decoded from
	// %ff, a header's raw bytes as a delivery id): PostgreSQL refuses
	// invalid UTF-8 in text, so both stores keep such bytes as U+FFFD, as
	// the headers' JSON does. The body is bytes and stays exact.
	for _, f := range []*string{&r.Method, &r.Path, &r.Query, &r.RemoteAddr, &r.Reason, &r.DedupeKey} {
		*f = strings.ToValidUTF8(*f, "\uFFFD")
	}
	now := opts.Now
	if now.IsZero() {
		now = s.cfg.Now()
	}
	headers := r.Headers
	if headers == nil {
		headers = map[string][]string{}
	}
	hdr, err := json.Marshal(headers)
	if err != nil {
		return hookline.Captured{}, fmt.Errorf("encoding request headers: %w", err)
	}
	// The body goes in as the pieces it was read in, the database joining
	// them: a request waiting for its write holds its body once.
	var pieces []any
	size := int64(0)
	for _, p := range opts.BodyPieces {
		if len(p) > 0 { // a nil piece would bind NULL
			pieces, size = append(pieces, p), size+int64(len(p))
		}
	}
	if r.Body != nil || len(pieces) == 0 {
		body := r.Body
		if body == nil {
			body = []byte{}
		}
		pieces, size = []any{body}, int64(len(body))
	}
	var out hookline.Captured
	err = s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		out = hookline.Captured{Request: r}
		status, reason := r.Status, r.Reason
		if status == hookline.RequestAccepted && r.DedupeKey != "" {
			// One upsert decides atomically, even between nodes sharing a
			// database: the row keeps its request unless that one is older
			// than the window, and the request it names afterwards is the
			// one forwarded.
			cutoff := d.Time(now.Add(-opts.DedupeWindow))
			winner, err := one[string](ctx, tx, d.Bind(`INSERT INTO inbound_dedupe (source_id, key, request_id, received) VALUES (?, ?, ?, ?)
				ON CONFLICT (source_id, key) DO UPDATE SET
					request_id = CASE WHEN inbound_dedupe.received <= ? THEN excluded.request_id ELSE inbound_dedupe.request_id END,
					received = CASE WHEN inbound_dedupe.received <= ? THEN excluded.received ELSE inbound_dedupe.received END
				RETURNING request_id`),
				r.SourceID, r.DedupeKey, r.ID, d.Time(r.Received), cutoff, cutoff)
			if err != nil {
				return fmt.Errorf("recording delivery id: %w", err)
			}
			if winner != nil && *winner != r.ID {
				status, reason = hookline.RequestDuplicate, "duplicate of "+*winner
			}
		}
		args := append([]any{r.ID, r.SourceID, r.Method, r.Path, r.Query, string(hdr)}, pieces...)
		args = append(args, r.RemoteAddr, d.Time(r.Received), status, reason, r.DedupeKey, r.ReplayOf, max(r.Size, size), r.BodySHA256)
		if _, err := s.exec(ctx, tx, `INSERT INTO inbound_requests (`+RequestColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, `+d.Blobs(len(pieces))+`, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return fmt.Errorf("inserting request: %w", err)
		}
		if status != hookline.RequestAccepted && status != hookline.RequestReplay {
			r.Status, r.Reason = status, reason
			return nil
		}
		owner, ready, exp := "", now, d.Time(time.Time{})
		if opts.LeaseOwner != "" {
			owner, ready, exp = opts.LeaseOwner, opts.LeaseExpires, d.Time(opts.LeaseExpires)
		}
		insert := `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at,
			lease_owner, lease_expires, ready_at, created, updated) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?)`
		if d.DeliveryPaused {
			insert = `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at,
				lease_owner, lease_expires, ready_at, created, updated, paused) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, false)`
		}
		for _, cid := range opts.ConnectionIDs {
			url := ""
			if cid != "" {
				u, err := one[string](ctx, tx, d.Bind(`SELECT url FROM connections WHERE id = ?`), cid)
				if err != nil {
					return fmt.Errorf("reading connection: %w", err)
				}
				if u == nil {
					continue // deleted since it was matched
				}
				url = *u
			}
			if owner != "" && r.Body == nil {
				// The engine sends from memory what it was handed leased:
				// only then is the body joined here.
				r.Body = bytes.Join(opts.BodyPieces, nil)
			}
			id := hookline.NewID("dlv")
			if _, err := s.exec(ctx, tx, insert, id, r.ID, cid, d.Time(now), owner, exp, d.Time(ready), d.Time(now), d.Time(now)); err != nil {
				return fmt.Errorf("inserting delivery: %w", err)
			}
			out.Deliveries++
			if owner != "" {
				out.Tasks = append(out.Tasks, hookline.NewRequestTask(id, 1, r, cid, url, opts.LeaseExpires))
			}
		}
		r.Status, r.Reason = status, reason
		return nil
	})
	if err != nil {
		out.Tasks = nil
		return out, fmt.Errorf("capturing request: %w", s.cfg.Translate(err))
	}
	return out, nil
}

// one runs q and scans the one column of its first row; nil when there is
// no row.
func one[T any](ctx context.Context, q Querier, query string, args ...any) (*T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var v T
	if err := rows.Scan(&v); err != nil {
		return nil, err
	}
	return &v, rows.Err()
}
