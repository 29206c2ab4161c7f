package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the harness reads.
const (
	// EnvDSN names an existing server to use instead of starting one. Its
	// user must be allowed to create databases.
	EnvDSN = "HOOKLINE_TEST_PG"
	// EnvSkip, set to 1, turns "PostgreSQL is not installed" into skipped
	// tests instead of failed ones.
	EnvSkip = "HOOKLINE_SKIP_PG"
)

// ErrNotInstalled is returned by Start when initdb and postgres cannot be
// found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): " +
	"run scripts/ensure-postgres.sh, or set " + EnvDSN + " to a server's DSN, or set " + EnvSkip + "=1 to skip these tests")

// startTimeout bounds initdb plus the server's start.
const startTimeout = 2 * time.Minute

// Server is a PostgreSQL server that tests make databases in: either a
// throwaway cluster this package started, or an existing one named by DSN.
// Its methods are safe for concurrent use.
type Server struct {
	admin    string // DSN of the maintenance database, "postgres"
	external bool

	dir  string        // the cluster's temporary directory, for a started server
	cmd  *exec.Cmd     // the postmaster, for a started server
	done chan struct{} // closed when the postmaster exits
	err  error         // the postmaster's exit error, set before done closes

	mu   sync.Mutex
	conn *pgx.Conn // to the maintenance database, for CREATE/DROP DATABASE

	seq      atomic.Int64
	stopOnce sync.Once
	stopErr  error
}

// Start makes a new cluster with initdb in a temporary directory and starts
// it on a free port of 127.0.0.1 and a unix socket in that directory, tuned
// for tests: no fsync, small buffers. Stop shuts it down and removes the
// directory. It returns ErrNotInstalled when PostgreSQL cannot be found.
func Start(ctx context.Context) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := unprivilegedCredential()
	if err != nil {
		return nil, err
	}
	base := os.TempDir()
	if cred != nil {
		base = "/tmp" // the server's user must reach the directory; root's TMPDIR may be private
	}
	dir, err := os.MkdirTemp(base, "hookline-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("making the cluster directory: %w", err)
	}
	s := &Server{dir: dir, done: make(chan struct{})}
	if err := s.start(ctx, bin, cred); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	data := filepath.Join(s.dir, "data")
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("handing the cluster directory to uid %d: %w", cred.Uid, err)
		}
	}
	// --no-sync: a test cluster need not survive a power cut, and fsyncing
	// the fresh cluster is most of initdb's time.
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Env = serverEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("running initdb: %w\n%s", err, out)
	}

	var lastErr error
	for try := 0; try < 3; try++ { // the free port may be taken before the server binds it
		port, err := freePort()
		if err != nil {
			return err
		}
		lastErr = s.run(ctx, bin, data, port, cred)
		if lastErr == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

// run starts the postmaster on port and waits until it accepts connections.
func (s *Server) run(ctx context.Context, bin, data string, port int, cred *syscall.Credential) error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the server log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	// The postmaster runs directly (not through pg_ctl, which daemonizes it)
	// so that Pdeathsig can take it down with the test binary, even when the
	// binary is killed before it can call Stop.
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(port),
		"-h", "127.0.0.1",
		"-k", s.dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB",
		"-c", "max_connections=300",
		"-c", "max_wal_size=1GB",
		"-c", "checkpoint_timeout=1h",
		"-c", "autovacuum=off",
		"-c", "log_min_messages=warning",
		"-c", "TimeZone=UTC",
	)
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()

	admin := fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.dir, port)
	for {
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			s.cmd, s.admin, s.conn = cmd, admin, conn
			go func() {
				<-done
				s.err = waitErr
				close(s.done)
			}()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited before accepting connections (%v); its log:\n%s", waitErr, tail(logPath))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			return fmt.Errorf("waiting for postgres to accept connections: %w (last error: %v); its log:\n%s", ctx.Err(), err, tail(logPath))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Connect returns a Server for an existing PostgreSQL server: databases are
// made in it and dropped by the tests' cleanups; Stop closes the connection.
func Connect(ctx context.Context, dsn string) (*Server, error) {
	admin, err := withDatabase(dsn, "postgres")
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", EnvDSN, err)
	}
	return &Server{admin: admin, external: true, conn: conn}, nil
}

// AdminDSN returns the DSN of the server's maintenance database.
func (s *Server) AdminDSN() string { return s.admin }

// CreateDatabase makes a new, empty database and returns its DSN. Names are
// unique within the server, across test binaries sharing an external one.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.seq.Add(1))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return "", errors.New("creating a database: the server is stopped")
	}
	// template0 holds nothing a test could have added to template1.
	if _, err := s.conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return withDatabase(s.admin, name)
}

// DropDatabase drops the database a DSN from CreateDatabase names,
// disconnecting whoever is still connected to it.
func (s *Server) DropDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parsing the database DSN: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil // a stopped throwaway server took its databases with it
	}
	if _, err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", cfg.Database, err)
	}
	return nil
}

// Stop shuts a started server down at once and removes its directory, or
// closes the connection to an external one. It may be called more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		if s.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.conn.Close(ctx)
			cancel()
			s.conn = nil
		}
		s.mu.Unlock()
		if s.cmd != nil {
			// SIGQUIT is PostgreSQL's immediate shutdown: no checkpoint, as
			// the cluster is about to be deleted anyway.
			_ = s.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
		if s.dir != "" {
			if err := os.RemoveAll(s.dir); err != nil {
				s.stopErr = fmt.Errorf("removing the cluster directory: %w", err)
			}
		}
	})
	return s.stopErr
}

// shared is the server of this test binary, made on first use.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

func sharedServer() (*Server, error) {
	shared.once.Do(func() {
		ctx := context.Background()
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared.srv, shared.err = Connect(ctx, dsn)
			return
		}
		shared.srv, shared.err = Start(ctx)
	})
	return shared.srv, shared.err
}

// Main runs a package's tests and then stops the shared server, if one was
// started. Call it from TestMain; it does not return.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// DSN returns the DSN of a new, empty database on the shared server,
// dropped when t ends. It fails t when no server can be had, and skips it
// instead only when PostgreSQL is not installed and HOOKLINE_SKIP_PG=1.
func DSN(t testing.TB) string {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv(EnvSkip) == "1" {
			t.Skipf("skipping: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	ctx := context.Background()
	dsn, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// Dropping keeps the disk use of a long run flat; it runs after the
	// test's own cleanups (which close its pools), as cleanups run last-in
	// first-out.
	t.Cleanup(func() {
		if err := srv.DropDatabase(ctx, dsn); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}

// findBinDir returns the directory holding initdb and postgres.
func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// initdb on PATH is often a symlink (Debian's wrappers, or a link in
		// /usr/local/bin) while postgres stays beside the real initdb.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first.
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		_, e1 := os.Stat(filepath.Join(dir, "initdb"))
		_, e2 := os.Stat(filepath.Join(dir, "postgres"))
		if e1 == nil && e2 == nil {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unprivilegedCredential returns the user to run PostgreSQL as when this
// process is root (PostgreSQL refuses to run as root), or nil otherwise.
func unprivilegedCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and found neither a postgres nor a nobody user to run PostgreSQL as")
}

// serverEnv is the environment of initdb and postgres: no PG* variables of
// the caller's, and a fixed locale.
func serverEnv() []string {
	return []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C", "TZ=UTC"}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// withDatabase returns dsn naming another database. It understands both
// URL (postgres://…) and keyword/value (host=… dbname=…) DSNs.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parsing DSN: %w", err)
		}
		u.Path = "/" + db
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword wins, so appending is enough.
	return strings.TrimSpace(dsn) + " dbname=" + db, nil
}

// tail returns the end of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
