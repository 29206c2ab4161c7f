package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

// operationalColumns are the columns a recorded operational event is
// inserted with; seq and key take their defaults.
const operationalColumns = `type, endpoint_id, endpoint_url, endpoint_description, tenant, event_id,
	has_attempt, attempt_status, attempt_error, attempt_error_kind, reason, created`

// notOperational is true unless the event v.event_id is an operational
// one: its deliveries make no delivery.* events (hookline.OperationalEvent).
// LIKE is case-sensitive in PostgreSQL, and "_" is not in the pattern.
const notOperational = `NOT EXISTS (SELECT 1 FROM events ev WHERE ev.id = v.event_id AND ev.type LIKE '` + hookline.OperationalPrefix + `%')`

// healthOperationalEvents ends CompleteTasks' endpoint health statement:
// from the rows it changed (CTE changed, with each row's state before),
// it records delivery.recovered, delivery.failing and endpoint.disabled
// (410 Gone), in that order. $6–$17 are the attempts behind each, as
// opArgs lays them out, indexed by the row's place in $1 (x.n). The
// endpoint rows are locked while the state before is read, so of two nodes
// completing attempts of one endpoint only the first sees a change.
var healthOperationalEvents = `
	INSERT INTO operational_events (` + operationalColumns + `)
	SELECT v.type, c.id, c.url, c.description, c.tenant, v.event_id, true, v.status, v.error, v.kind, v.reason, $5
	FROM changed c CROSS JOIN LATERAL (VALUES
		(1, '` + hookline.OpDeliveryRecovered + `', c.reset AND c.was_failing IS NOT NULL, true,
			($10::text[])[c.n::int], ($11::int[])[c.n::int], ($12::text[])[c.n::int], ($13::text[])[c.n::int], ''),
		(2, '` + hookline.OpDeliveryFailing + `', c.t IS NOT NULL AND (c.reset OR c.was_failing IS NULL), true,
			($6::text[])[c.n::int], ($7::int[])[c.n::int], ($8::text[])[c.n::int], ($9::text[])[c.n::int], ''),
		(3, '` + hookline.OpEndpointDisabled + `', c.disable <> '' AND c.was_status = 'enabled', false,
			($14::text[])[c.n::int], ($15::int[])[c.n::int], ($16::text[])[c.n::int], ($17::text[])[c.n::int], c.disable)
	) AS v(ord, type, happened, quiet, event_id, status, error, kind, reason)
	WHERE v.happened AND (NOT v.quiet OR ` + notOperational + `)
	ORDER BY c.id, v.ord`

// exhaustedOperationalEvents wraps finish, CompleteTasks' statement that
// writes the deliveries' new state, so that it also records a
// delivery.exhausted event for each delivery it finished whose completion
// gave up ($6, indexed by the delivery's place in $1), with the attempt
// ($7–$9). A delivery whose lease was lost is not finished and records none.
func exhaustedOperationalEvents(finish string) string {
	return `WITH done AS (` + finish + ` RETURNING d.event_id, d.endpoint_id, x.n)
	INSERT INTO operational_events (` + operationalColumns + `)
	SELECT '` + hookline.OpDeliveryExhausted + `', p.id, p.url, p.description, p.tenant, v.event_id, true,
		($7::int[])[v.n::int], ($8::text[])[v.n::int], ($9::text[])[v.n::int], '', $4
	FROM done v JOIN endpoints p ON p.id = v.endpoint_id
	WHERE ($6::bool[])[v.n::int] AND ` + notOperational + `
	ORDER BY v.n`
}

// exhaustedAttempts returns the arguments exhaustedOperationalEvents takes
// ($6–$9) for the completions cs, or nil when none gave up after its
// retries (the usual batch, which then runs the plain statement). A failed
// completion that disables its endpoint (410 Gone) did not run out of
// retries.
func exhaustedAttempts(cs []hookline.Completion, attempts []hookline.Attempt) []any {
	var (
		gaveUp = make([]bool, len(cs))
		some   bool
		status = make([]int32, len(cs))
		errs   = make([]string, len(cs))
		kinds  = make([]string, len(cs))
	)
	for i, c := range cs {
		if c.Status == hookline.DeliveryFailed && c.DisableEndpoint == "" {
			gaveUp[i], some = true, true
			status[i], errs[i], kinds[i] = int32(attempts[i].ResponseStatus), cleanText(attempts[i].Error), attempts[i].ErrorKind
		}
	}
	if !some {
		return nil
	}
	return []any{gaveUp, status, errs, kinds}
}

// opAttempts lays out, one element per endpoint, the attempt behind each
// endpoint's change of one kind ("" and 0 where there is none).
type opAttempts struct {
	events, errors, kinds []string
	status                []int32
}

func (o *opAttempts) add(a *hookline.Attempt) {
	if a == nil {
		a = &hookline.Attempt{}
	}
	o.events, o.status = append(o.events, a.EventID), append(o.status, int32(a.ResponseStatus))
	o.errors, o.kinds = append(o.errors, cleanText(a.Error)), append(o.kinds, a.ErrorKind)
}

// opArgs returns the arguments $6–$17 of healthOperationalEvents.
func opArgs(failed, success, gone opAttempts) []any {
	var out []any
	for _, o := range []opAttempts{failed, success, gone} {
		out = append(out, o.events, o.status, o.errors, o.kinds)
	}
	return out
}

// recordDisabledFailing records the endpoint.disabled events of endpoints
// ids, disabled for failing too long, each naming its last attempt.
func recordDisabledFailing(ctx context.Context, tx pgx.Tx, ids []string, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO operational_events (`+operationalColumns+`)
		SELECT '`+hookline.OpEndpointDisabled+`', p.id, p.url, p.description, p.tenant, COALESCE(a.event_id, ''),
			a.id IS NOT NULL, COALESCE(a.response_status, 0), COALESCE(a.error, ''), COALESCE(a.error_kind, ''), $2, $3
		FROM endpoints p LEFT JOIN LATERAL (
			SELECT * FROM attempts WHERE endpoint_id = p.id ORDER BY id DESC LIMIT 1
		) a ON true
		WHERE p.id = ANY($1)
		ORDER BY p.id`, ids, reason, ts(now))
	if err != nil {
		return fmt.Errorf("recording %s: %w", hookline.OpEndpointDisabled, err)
	}
	return nil
}
