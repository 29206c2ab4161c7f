package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// The SQL both stores share (retention, statistics, capturing inbound
// requests) is written once in
// internal/store/sqlcore; this is what it needs of SQLite.

var (
	_ hookline.Retention  = (*Store)(nil)
	_ hookline.StatsStore = (*Store)(nil)
)

// dialect is SQLite's: ? placeholders, times as Unix milliseconds, a list
// bound as one JSON array, rows named by rowid, no row locks (one writer).
func dialect() sqlcore.Dialect {
	return sqlcore.Dialect{
		Time: func(t time.Time) any { return ms(t) },
		In: func(col string, ids []string) (string, any) {
			list, _ := json.Marshal(ids) // marshalling strings cannot fail
			return col + ` IN (SELECT value FROM json_each(?))`, string(list)
		},
		RowID:     "rowid",
		RowsIn:    func(sub string) string { return `rowid IN (` + sub + `)` },
		BlobParam: "?",
		JSONParam: "?",
		// || copies blobs byte for byte but calls the result text, which
		// CAST makes a blob again (unchanged: the database is UTF-8).
		Blob: func(concat string) string { return `CAST(` + concat + ` AS BLOB)` },
	}
}

// shared is the store's sqlcore.Shared: reads on the read pool (which
// first flushes the journal), writes through the single writer.
func (s *Store) shared() *sqlcore.Shared {
	return sqlcore.New(sqlcore.Config{
		Dialect: dialect(),
		Read:    sqlReader{s.r},
		// Without the journal's flush: a poll that flushed every second
		// would write unsettled deliveries twice.
		ReadCommitted: sqlReader{s.r.db},
		Write: func(ctx context.Context, fn func(context.Context, sqlcore.Execer) error) error {
			return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, sqlTx{tx}) })
		},
		Translate:          translate,
		Now:                s.now,
		Sealer:             s.seal,
		EndpointsRewritten: s.dropEndpointCache,
	})
}

// sqlRows are database/sql rows as sqlcore reads them.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type sqlReader struct{ q queryer }

func (r sqlReader) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Query(ctx context.Context, q string, args ...any) (sqlcore.Rows, error) {
	return sqlReader{t.tx}.Query(ctx, q, args...)
}

func (t sqlTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
