package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
	"github.com/hookline/hookline/internal/store/sqlite/journal"
)

var (
	_ hookline.Store            = (*Store)(nil)
	_ hookline.BackgroundWriter = (*Store)(nil)
)

//go:embed migrations/*.sql
var migrations embed.FS

// Synchronous settings for Options.Synchronous.
const (
	// SyncFull fsyncs the WAL on every commit: a committed transaction
	// survives power loss. The default.
	SyncFull = "FULL"
	// SyncNormal fsyncs only at checkpoints: a committed transaction survives
	// a crash of the process but may be lost with the power.
	SyncNormal = "NORMAL"
)

// Options tune Open. The zero value is the recommended setting.
type Options struct {
	// Synchronous is SyncFull (the default) or SyncNormal.
	Synchronous string
	// BusyTimeout is how long a connection waits for a lock held by another
	// connection (a checkpoint, or another process reading the file).
	// Default 5s.
	BusyTimeout time.Duration
	// Readers is the size of the read-only connection pool. Default
	// max(4, GOMAXPROCS).
	Readers int
	// Now stamps the Updated times of writes whose caller gives no time.
	// Default time.Now.
	Now func() time.Time
	// Logger receives the store's own reports: background flushes that
	// fail, files whose modes were too wide. Default: discarded.
	Logger *slog.Logger
	// NoJournal stores each publish batch in a SQLite transaction of its
	// own (group commit) instead of the journal. It is slower (1 KB events,
	// BenchmarkRelayJournal, completions durable in both, 24 rounds on a
	// shared 2-core machine: plain 0.40× the null relay, the journal 0.50×,
	// the journal faster in 20 rounds, by 1.25× at the median) and is kept so
	// that the journal's gain can be measured again.
	NoJournal bool
	// JournalFS holds the journal's segments. Default: the operating
	// system's files, beside the database. Tests put a file system that
	// simulates power cuts here (journal/crashfs).
	JournalFS journal.FS
	// JournalSegmentSize is the size of a journal segment. Default
	// journal.DefaultSegmentSize; tests make it small.
	JournalSegmentSize int64
	// Sealer seals endpoint and source secrets, and endpoints' static
	// header values, at rest. Default hookline.PlainSecrets (none).
	Sealer hookline.SecretSealer
}

// Store is a hookline.Store on one SQLite file. It is safe for concurrent
// use. Writes are serialised; reads run concurrently with them.
type Store struct {
	// Shared is the SQL both stores share (internal/store/sqlcore, wired
	// in shared.go): retention (PurgeBefore), the statistics
	// (AttemptStats, EndpointStats, RecordBacklog, BacklogStats,
	// PruneStats) and inbound capture (CaptureRequest).
	*sqlcore.Shared

	w         *sql.DB   // one connection: every write
	r         *readPool // read-only pool
	now       func() time.Time
	noJournal bool // Options.NoJournal
	log       *slog.Logger
	health    flushHealth // of the background flushes
	seal      hookline.SecretSealer

	migrated []string // the migrations Open applied, for "hookline migrate" to report

	bus notifyBus // Notify and Listen (cluster.go)

	pace paceState // rate limit buckets and 429 holds, kept in endpoint_buckets too (pace.go)

	// jmu serialises publishes: their journal appends and the checks before
	// them. Taken before bmu.
	jmu  sync.Mutex
	jrnl *journal.Journal
	// bmu guards pend, the published events not yet in SQLite.
	bmu  sync.Mutex
	pend pending
	// retireMu serialises retireQueued. Taken after jmu, before bmu.
	retireMu     sync.Mutex
	pendingCount atomic.Int64 // len(pend.events), to skip bmu when zero
	pendingBytes atomic.Int64 // pend.bytes
	kick         chan struct{}
	stopFlush    chan struct{}
	flushDone    chan struct{}

	// qmu guards queue: the writes waiting for the writer.
	qmu   sync.Mutex
	queue []*writeJob
	// wmu serialises write transactions.
	wmu sync.Mutex
	// endpointsChanged is set under wmu by a write that changes endpoints:
	// the cache is dropped again once its transaction ends, so that no load
	// that read the old rows in the meantime survives.
	endpointsChanged bool

	// cmu guards what follows: the enabled endpoints, cached for publish
	// fan-out and claims. Every write that changes an endpoint drops them,
	// and a load stores its result only if no drop happened since it began,
	// so the cache is never stale. Its values are never modified once cached.
	cmu         sync.Mutex
	cacheGen    uint64
	enabled     map[string]*hookline.Endpoint
	enabledList []*hookline.Endpoint // enabled in id order, for deterministic fan-out

	stmts writeStmts
	// Multi-row inserts of the hot path.
	insEvents, insDeliveries, insAttempts *multiInsert
	owners                                leaseOwners // who has leased since Open (tasks.go)
	// probes are the reads of a claim from memory (claimFromMemory), on the
	// read pool, without the writer.
	probes readStmts
}

// readStmts are statements prepared once on the read pool.
type readStmts struct {
	dueInSQLite  *sql.Stmt
	othersLeases *sql.Stmt
}

// writeStmts are the hot path's statements, prepared once on the writer
// connection.
type writeStmts struct {
	putIdemKey     *sql.Stmt
	leaseDelivery  *sql.Stmt
	finishDelivery *sql.Stmt
	deliveryRefs   *sql.Stmt
	setFailing     *sql.Stmt
	clearFailing   *sql.Stmt
	disableEP      *sql.Stmt
	releaseOne     *sql.Stmt
	// A claim's reads (tasks.go): each endpoint's and each connection's
	// due deliveries, and the leases of other owners.
	dueOfEndpoint   *sql.Stmt
	dueOfConnection *sql.Stmt
	othersLeases    *sql.Stmt
}

// Open opens (creating if needed) the SQLite database at path, brings its
// schema up to date and releases any delivery leases an earlier process left
// behind. Only one process may use the file at a time.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = SyncFull
	}
	opts.Synchronous = strings.ToUpper(opts.Synchronous)
	if opts.Synchronous != SyncFull && opts.Synchronous != SyncNormal {
		return nil, fmt.Errorf("opening sqlite store: synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sealer == nil {
		opts.Sealer = hookline.PlainSecrets{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := private(path, opts.Logger); err != nil {
		return nil, err
	}

	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	wq := url.Values{}
	wq.Add("_pragma", "busy_timeout("+busy+")")
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous("+opts.Synchronous+")")
	// Deleted rows (an endpoint's secret, a purged payload) are zeroed, not
	// left in free pages for anyone who reads the file.
	wq.Add("_pragma", "secure_delete(ON)")
	// A deferred BEGIN would take the write lock at the first write and
	// could fail there with SQLITE_BUSY; IMMEDIATE takes it up front.
	wq.Set("_txlock", "immediate")

	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout("+busy+")")
	rq.Add("_pragma", "query_only(1)")

	w, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w, now: opts.Now, noJournal: opts.NoJournal, log: opts.Logger, seal: opts.Sealer}
	// The writer runs first so that the file exists, in WAL mode, with its
	// schema, before any reader opens it.
	if s.migrated, err = s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.loadBuckets(ctx); err != nil { // pace.go
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	s.r = &readPool{db: r, s: s}
	s.Shared = s.shared()

	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !s.noJournal {
		if err := s.openJournal(ctx, path, opts); err != nil {
			s.Close()
			return nil, err
		}
	}
	// releaseAll, like every write, first flushes the replayed journal.
	if err := s.releaseAll(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !s.noJournal {
		s.stopFlush, s.flushDone = make(chan struct{}), make(chan struct{})
		go s.flushLoop()
	}
	return s, nil
}

// fileMode is the mode of the database and its -wal and -shm files: they
// hold endpoint secrets and every payload.
const fileMode = 0o600

// private creates the database file at path with fileMode unless it
// exists, before SQLite creates it (SQLite gives its -wal and -shm files
// the database's mode), and narrows the mode of those files where an
// earlier version left them wider, saying so.
func private(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("creating the database file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checking the mode of %s: %w", p, err)
		}
		if st.Mode().Perm()&^fileMode == 0 {
			continue
		}
		if err := os.Chmod(p, fileMode); err != nil {
			return fmt.Errorf("narrowing the mode of %s: %w", p, err)
		}
		log.Warn("database file was readable by others; its mode is now 0600", "file", p, "was", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
	return nil
}

// Close flushes the journal into SQLite and closes the store.
func (s *Store) Close() error {
	var errs []error
	if s.flushDone != nil {
		close(s.stopFlush)
		<-s.flushDone
		s.flushDone = nil
		// On failure the journal stays, to be replayed at the next Open.
		errs = append(errs, s.sync(context.Background()))
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.jrnl != nil {
		path, _ := s.jrnl.Tail()
		errs = append(errs, s.jrnl.Close())
		if s.pendingCount.Load() == 0 {
			seg := newSegment()
			seg.path = path
			s.bmu.Lock()
			s.retire(seg)
			s.bmu.Unlock()
		}
		if !s.retireQueued() {
			errs = append(errs, errors.New("closing the journal: some segments could not be retired; they are replayed at the next start"))
		}
	}
	for _, st := range []*sql.Stmt{
		s.stmts.putIdemKey,
		s.stmts.leaseDelivery, s.stmts.finishDelivery, s.stmts.deliveryRefs,
		s.stmts.setFailing, s.stmts.clearFailing, s.stmts.disableEP, s.stmts.releaseOne,
		s.stmts.dueOfEndpoint, s.stmts.dueOfConnection, s.stmts.othersLeases,
		s.probes.dueInSQLite, s.probes.othersLeases,
	} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, m := range []*multiInsert{s.insEvents, s.insDeliveries, s.insAttempts} {
		m.close()
	}
	if s.r != nil {
		errs = append(errs, s.r.db.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing sqlite store: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations that schema_migrations does not
// list, each in its own transaction, in file name order, and returns the
// versions it applied.
func (s *Store) migrate(ctx context.Context) ([]string, error) {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied INTEGER NOT NULL
	) STRICT`); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	sort.Strings(names)
	var applied []string
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", version, err)
		}
		var ran bool
		err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			ran = false // a retried transaction starts over
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, version, ms(s.now()))
			ran = err == nil
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("applying migration %s: %w", version, err)
		}
		if ran {
			applied = append(applied, version)
		}
	}
	return applied, nil
}

// Migrated returns the versions of the migrations Open applied to the
// database (none when it was up to date), in the order applied.
func (s *Store) Migrated() []string { return slices.Clone(s.migrated) }

func (s *Store) prepare(ctx context.Context) error {
	list := []struct {
		dst *(*sql.Stmt)
		q   string
	}{
		{&s.stmts.putIdemKey, `INSERT INTO idempotency_keys (key, event_id, published) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, published = excluded.published`},
		{&s.stmts.leaseDelivery, `UPDATE deliveries SET lease_owner = ?, lease_expires = ?, ready_at = ? WHERE id = ?`},
		{&s.stmts.finishDelivery, `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, ready_at = ?,
			lease_owner = '', lease_expires = 0, updated = ?
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`},
		{&s.stmts.deliveryRefs, `SELECT event_id, endpoint_id FROM deliveries WHERE id = ?`},
		{&s.stmts.setFailing, `UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since = 0`},
		{&s.stmts.clearFailing, `UPDATE endpoints SET failing_since = 0 WHERE id = ? AND failing_since <> 0`},
		{&s.stmts.disableEP, `UPDATE endpoints SET status = 'disabled', disabled_reason = ?, updated = ? WHERE id = ?`},
		{&s.stmts.releaseOne, `UPDATE deliveries SET lease_owner = '', lease_expires = 0, next_attempt_at = ?, ready_at = ?
			WHERE id = ? AND lease_owner = ? AND status = 'pending'`},
		{&s.stmts.dueOfEndpoint, dueOfEndpointQuery},
		{&s.stmts.dueOfConnection, dueOfConnectionQuery},
		{&s.stmts.othersLeases, othersLeasesQuery},
	}
	for _, p := range list {
		st, err := s.w.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", p.q, err)
		}
		*p.dst = st
	}
	for _, p := range []struct {
		dst *(*sql.Stmt)
		q   string
	}{{&s.probes.dueInSQLite, dueInSQLiteQuery}, {&s.probes.othersLeases, othersLeasesQuery}} {
		st, err := s.r.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", p.q, err)
		}
		*p.dst = st
	}
	var err error
	// OR IGNORE: replaying a journal after a crash may find rows a flush
	// wrote before it.
	if s.insEvents, err = prepareMultiInsert(ctx, s.w, `INSERT OR IGNORE INTO events (id, type, created, tenant, payload, idempotency_key)`,
		`(?, ?, ?, ?, ?, ?)`, 6); err != nil {
		return err
	}
	if s.insDeliveries, err = prepareMultiInsert(ctx, s.w, `INSERT OR IGNORE INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_expires, ready_at, created, updated)`,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, 11); err != nil {
		return err
	}
	if s.insAttempts, err = prepareMultiInsert(ctx, s.w, `INSERT INTO attempts (id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms, error, error_kind, response_body, next_retry)`,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, 13); err != nil {
		return err
	}
	return nil
}

// releaseAll clears every lease. Only one process uses the file, so any
// lease found at Open belongs to a process that is gone.
func (s *Store) releaseAll(ctx context.Context) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires = 0, ready_at = next_attempt_at
			WHERE status = 'pending' AND lease_owner <> ''`)
		return err
	})
	if err != nil {
		return fmt.Errorf("releasing leases of an earlier process: %w", err)
	}
	return nil
}

// write runs fn in a write transaction, committing if it returns nil.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.writeJob(&writeJob{ctx: context.WithoutCancel(ctx), fn: fn})
}

// writeJob queues job and waits for it to run.
func (s *Store) writeJob(job *writeJob) error {
	// Group commit: every write joins a queue; whoever gets the writer next
	// runs everything queued in one transaction, each write inside a
	// savepoint of its own, so one commit (one fsync) serves them all and a
	// failing write undoes only itself.
	s.qmu.Lock()
	s.queue = append(s.queue, job)
	s.qmu.Unlock()

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if job.finished {
		return job.err // an earlier leader ran it
	}
	s.qmu.Lock()
	jobs := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.runBatch(jobs)
	return job.err
}

// writeJob is one write waiting for the writer.
type writeJob struct {
	ctx      context.Context
	fn       func(ctx context.Context, tx *sql.Tx) error
	err      error
	finished bool // set under wmu
	// settledOnly marks a job that needs no unsettled event flushed (see
	// flushPending): the flusher's, and completions of flushed deliveries.
	// A batch of such jobs alone flushes only settled events.
	settledOnly bool
	// noFlush marks a job that needs nothing flushed: a claim, which reads
	// unflushed deliveries in memory. A batch of such jobs alone flushes
	// nothing, so that a claim does not wait for a flush and its fsync.
	noFlush bool
}

// runBatch runs jobs in one transaction. The caller holds wmu.
func (s *Store) runBatch(jobs []*writeJob) {
	finish := func(err error) {
		for _, j := range jobs {
			if j.err == nil {
				j.err = err
			}
			j.finished = true
		}
	}
	// Once it holds the writer, a transaction runs to its end: it is short,
	// abandoning it half-way only wastes the work, and the driver watches
	// every statement of a cancellable context with a goroutine of its own.
	defer s.endpointsSettled()
	tx, err := s.w.BeginTx(jobs[0].ctx, nil)
	if err != nil {
		finish(translate(err))
		return
	}
	// Every transaction starts by flushing the journal, so that it sees
	// every publish accepted before it.
	settledOnly, noFlush := true, true
	for _, j := range jobs {
		settledOnly = settledOnly && (j.settledOnly || j.noFlush)
		noFlush = noFlush && j.noFlush
	}
	var flushed func(bool)
	if !noFlush {
		flushed, err = s.flushPending(jobs[0].ctx, tx, settledOnly)
	}
	if err != nil {
		_ = tx.Rollback()
		finish(fmt.Errorf("flushing the journal: %w", translate(err)))
		return
	}
	done := func(committed bool) {
		if flushed != nil {
			flushed(committed)
		}
	}
	if len(jobs) == 1 {
		if err := jobs[0].fn(jobs[0].ctx, tx); err != nil {
			_ = tx.Rollback()
			done(false)
			s.dropEndpointCache()
			finish(translate(err))
			return
		}
	} else {
		for _, j := range jobs {
			if _, err := tx.ExecContext(j.ctx, "SAVEPOINT job"); err != nil {
				_ = tx.Rollback()
				done(false)
				s.dropEndpointCache()
				finish(translate(err))
				return
			}
			if err := j.fn(j.ctx, tx); err != nil {
				j.err = translate(err)
				// A failed write may have touched the cache before failing.
				s.dropEndpointCache()
				_, err = tx.ExecContext(j.ctx, "ROLLBACK TO job")
				if err != nil {
					_ = tx.Rollback()
					done(false)
					finish(translate(err))
					return
				}
			}
			if _, err := tx.ExecContext(j.ctx, "RELEASE job"); err != nil {
				_ = tx.Rollback()
				done(false)
				s.dropEndpointCache()
				finish(translate(err))
				return
			}
		}
	}
	if err := tx.Commit(); err != nil {
		done(false)
		// The transaction may have changed endpoints before failing.
		s.dropEndpointCache()
		finish(translate(err))
		return
	}
	done(true)
	finish(nil)
}

// dropEndpointCache forgets the enabled endpoints; the caller holds wmu,
// in a transaction that may have changed them.
func (s *Store) dropEndpointCache() {
	s.endpointsChanged = true
	s.invalidateEndpoints()
}

func (s *Store) invalidateEndpoints() {
	s.cmu.Lock()
	s.cacheGen++
	s.enabled, s.enabledList = nil, nil
	s.cmu.Unlock()
}

// endpointsSettled drops the cache once more after a transaction that
// changed endpoints has ended: a load through the read pool may have read
// the old rows between the first drop and the commit.
func (s *Store) endpointsSettled() {
	if s.endpointsChanged {
		s.endpointsChanged = false
		s.invalidateEndpoints()
	}
}

// enabledEndpoints returns the enabled endpoints, loading them through q
// (a transaction, or the read pool) when the cache is empty.
func (s *Store) enabledEndpoints(ctx context.Context, q queryer) ([]*hookline.Endpoint, map[string]*hookline.Endpoint, error) {
	s.cmu.Lock()
	list, m, gen := s.enabledList, s.enabled, s.cacheGen
	s.cmu.Unlock()
	if m != nil {
		return list, m, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+endpointSelect+` FROM endpoints WHERE status = 'enabled' ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("loading enabled endpoints: %w", err)
	}
	defer rows.Close()
	m = map[string]*hookline.Endpoint{}
	list = nil
	for rows.Next() {
		e, err := s.scanEndpoint(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("loading enabled endpoints: %w", err)
		}
		m[e.ID] = e
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("loading enabled endpoints: %w", err)
	}
	s.cmu.Lock()
	if s.cacheGen == gen {
		s.enabled, s.enabledList = m, list
	}
	s.cmu.Unlock()
	return list, m, nil
}

// translate maps driver errors to hookline errors at the boundary
// (sqlcore.Translate): sql.ErrNoRows becomes ENOTFOUND, a primary key or
// unique constraint failing ECONFLICT.
func translate(err error) error {
	return sqlcore.Translate(err, sql.ErrNoRows, func(err error) (string, bool) {
		var se *sqlite.Error
		if errors.As(err, &se) {
			switch se.Code() {
			case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
				return se.Error(), true
			}
		}
		return "", false
	})
}

// ms converts a time to unix milliseconds, the zero time to 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms, in UTC.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

var _ hookline.Tuned = (*Store)(nil)

// Tuning declares how to drive the store. SQLite has one writer, so one
// committer. A publish batch lingers 400 µs: the journal pays one
// fdatasync per batch, much of it CPU on a busy machine; when publishing
// cost about 200 µs of CPU per event, 1 ms did best (2 and 3 ms gave the
// larger batches' gain back in latency), and at about 130 µs, lingering
// 300, 400 or 500 µs beat 1 ms in 23 of 28 paired rounds against the null
// relay and tied the rest (150 µs and none did worse than 300 µs). The
// journal flushes on a low-priority thread, whose processor the requests
// would otherwise miss while the kernel runs them first: a spare one. (A
// store opened with NoJournal asks for the same, as it was measured with.)
func (s *Store) Tuning() hookline.Tuning {
	return hookline.Tuning{Committers: 1, Linger: 400 * time.Microsecond, SpareProcessor: true}
}
