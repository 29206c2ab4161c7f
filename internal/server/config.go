package server

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Config is what `hookline serve` is told. Zero fields take the defaults
// noted; Validate checks the rest.
type Config struct {
	Addr          string          // listen address ("127.0.0.1:8080"); port 0 picks a free one
	DataDir       string          // where the SQLite database and the API key file live ("./hookline-data")
	Dev           bool            // allow loopback and private destinations
	RetrySchedule []time.Duration // delay before each retry
	Timeout       time.Duration   // per attempt (15 s), for endpoints without their own timeout_seconds
	// MaxConcurrency caps the deliveries leased to one endpoint at a time,
	// for endpoints without their own max_concurrency (32).
	MaxConcurrency int
	// BreakerFailures is how many consecutive failed attempts open the
	// circuit of an endpoint without its own circuit_breaker (10), and
	// BreakerCoolDown the first cool-down (30 s; doubling to 10 min).
	BreakerFailures int
	BreakerCoolDown time.Duration
	APIKey          string        // from HOOKLINE_API_KEY; when empty, one is made and kept in DataDir
	SecretKey       string        // from HOOKLINE_SECRET_KEY: keys sealing secrets at rest; when empty, DataDir's secret_key file
	MaxBodyBytes    int64         // API request body cap (1 MiB)
	DisableAfter    time.Duration // disable endpoints failing this long (5 days)
	Version         string
	PprofAddr       string // serve the Go profiler here (HOOKLINE_PPROF_ADDR); off when empty
	// TuneRuntime lets Run add the Go processor the store's tuning asks
	// for (hookline.Tuning.SpareProcessor). Only `hookline serve`, which
	// owns its process, sets it (and not when GOMAXPROCS is set): a server
	// embedded in `hookline listen` or a test leaves its process alone.
	TuneRuntime bool
	ScaleOut    // --db, --no-migrate, --retention, --lease (store.go)
	Inbound     // --max-inbound-body, --tls-cert, --tls-key (inbound.go)
	Connections // --max-connections, --body-timeout, --min-body-rate (conns.go)
}

// Defaults for Config.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultDataDir = "./hookline-data"
)

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = hookline.DefaultMaxConcurrency
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = hookline.DefaultBreakerFailures
	}
	if c.BreakerCoolDown == 0 {
		c.BreakerCoolDown = hookline.DefaultCircuitCoolDown
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c *Config) Validate() error {
	c.setDefaults()
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port: %w", c.Addr, err)
	}
	if c.Timeout < 100*time.Millisecond || c.Timeout > 5*time.Minute {
		return fmt.Errorf("--timeout %s: must be from 100ms to 5m", c.Timeout)
	}
	if c.MaxConcurrency < 0 || c.MaxConcurrency > hookline.MaxMaxConcurrency {
		return fmt.Errorf("--max-concurrency %d: must be from 1 to %d", c.MaxConcurrency, hookline.MaxMaxConcurrency)
	}
	if c.BreakerFailures < 0 || c.BreakerFailures > hookline.MaxBreakerFailures {
		return fmt.Errorf("--breaker-failures %d: must be from 1 to %d", c.BreakerFailures, hookline.MaxBreakerFailures)
	}
	if c.BreakerCoolDown < 0 || c.BreakerCoolDown > hookline.MaxCircuitCoolDown {
		return fmt.Errorf("--breaker-cooldown %s: must be from 1ms to %s", c.BreakerCoolDown, hookline.MaxCircuitCoolDown)
	}
	if c.MaxBodyBytes < 1024 {
		return errors.New("--max-body: must be at least 1024 bytes")
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		return errors.New("HOOKLINE_API_KEY: must be at least 16 characters")
	}
	if err := c.ScaleOut.validate(c.Timeout); err != nil {
		return err
	}
	if err := c.Inbound.validate(); err != nil {
		return err
	}
	if err := c.Connections.validate(); err != nil {
		return err
	}
	return nil
}
