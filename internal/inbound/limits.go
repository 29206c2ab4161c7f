package inbound

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookline/hookline/internal/hookline"
)

// GateConfig is what a Gate enforces beyond each source's own limits.
type GateConfig struct {
	// RequestsPerMinute and BytesPerDay apply to a source whose Limits leave
	// them 0; 0 here too means unlimited.
	RequestsPerMinute int
	BytesPerDay       int64
	// MaxConcurrent caps the request bodies being received at once, over
	// all sources; 0 means unlimited. With MaxInboundBody it bounds the
	// memory strangers can make the server hold.
	MaxConcurrent int
	// QueueWait is how long a request waits for one of the MaxConcurrent
	// slots before it is answered 503 (2 s when 0).
	QueueWait time.Duration
	// MinFreeDisk is the free space, in bytes, below which FreeDisk makes
	// every request refused with 507; 0 disables the check.
	MinFreeDisk uint64
	// FreeDisk reports the free bytes on the disk that holds the data; nil
	// disables the check (a store on another machine).
	FreeDisk func() (uint64, error)
	Now      func() time.Time
}

// Gate admits requests to sources' ingest URLs, or refuses them before
// their body is read: by address (403), free disk (507), rate and daily
// byte quota (429) and the server-wide cap on bodies in flight (503).
// Counters live in this process: with several nodes each counts what it
// receives, and a restart starts the day's quota afresh. It is safe for
// concurrent use.
type Gate struct {
	cfg   GateConfig
	slots chan struct{} // nil when MaxConcurrent is 0

	mu      sync.Mutex
	sources map[string]*sourceCounters // by source id
}

// sourceCounters is one source's rate limiter and the bytes it received on
// day (days since the Unix epoch, UTC).
type sourceCounters struct {
	perMinute int
	limiter   *rate.Limiter // nil when unlimited
	day       int64
	bytes     int64
}

// NewGate returns a gate enforcing cfg.
func NewGate(cfg GateConfig) *Gate {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 2 * time.Second
	}
	g := &Gate{cfg: cfg, sources: map[string]*sourceCounters{}}
	if cfg.MaxConcurrent > 0 {
		g.slots = make(chan struct{}, cfg.MaxConcurrent)
	}
	return g
}

// Ticket is an admitted request's hold on the gate: its reserved share of
// the daily quota and its slot. Done gives back what it did not use.
type Ticket struct {
	g        *Gate
	sourceID string
	day      int64
	reserved int64
	slot     bool
	done     bool
}

// Admit decides whether a request from remoteAddr announcing
// contentLength body bytes (-1 when unknown; then maxBody is reserved
// until Done) may be received by src. It returns a *hookline.Error saying
// why not, with RetryAfter set where waiting helps.
func (g *Gate) Admit(ctx context.Context, src *hookline.Source, remoteAddr string, contentLength, maxBody int64) (*Ticket, error) {
	if err := checkAddr(src.Limits.AllowedIPs, remoteAddr); err != nil {
		return nil, err
	}
	if g.cfg.FreeDisk != nil && g.cfg.MinFreeDisk > 0 {
		free, err := g.cfg.FreeDisk()
		if err != nil {
			return nil, fmt.Errorf("checking free disk space: %w", err)
		}
		if free < g.cfg.MinFreeDisk {
			return nil, &hookline.Error{Code: hookline.ENOSPACE, RetryAfter: time.Minute, Message: fmt.Sprintf(
				"this server is not receiving webhooks: its disk has %d bytes free, under its floor of %d (hookline serve --min-free-disk)",
				free, g.cfg.MinFreeDisk)}
		}
	}
	reserve := contentLength
	if reserve < 0 {
		reserve = maxBody
	}
	now := g.cfg.Now()
	t, err := g.take(src, reserve, now)
	if err != nil {
		return nil, err
	}
	if g.slots != nil {
		wait, cancel := context.WithTimeout(ctx, g.cfg.QueueWait)
		defer cancel()
		select {
		case g.slots <- struct{}{}:
			t.slot = true
		case <-wait.Done():
			t.Done(0)
			return nil, &hookline.Error{Code: hookline.EUNAVAILABLE, RetryAfter: time.Second, Message: fmt.Sprintf(
				"this server is receiving %d webhooks at once, its cap (hookline serve --max-inbound-concurrent); retry shortly",
				g.cfg.MaxConcurrent)}
		}
	}
	return t, nil
}

// take spends one request of src's rate and reserves bytes of its quota.
func (g *Gate) take(src *hookline.Source, bytes int64, now time.Time) (*Ticket, error) {
	perMinute, quota := src.Limits.RequestsPerMinute, src.Limits.BytesPerDay
	if perMinute == 0 {
		perMinute = g.cfg.RequestsPerMinute
	}
	if quota == 0 {
		quota = g.cfg.BytesPerDay
	}
	day := now.UTC().Unix() / 86400

	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.sources[src.ID]
	if c == nil {
		c = &sourceCounters{}
		g.sources[src.ID] = c
	}
	if c.perMinute != perMinute {
		c.perMinute, c.limiter = perMinute, nil
		if perMinute > 0 {
			// A burst of a tenth of the minute's allowance: providers send
			// in bursts, but not a minute's worth in one second.
			c.limiter = rate.NewLimiter(rate.Limit(float64(perMinute)/60), max(1, perMinute/10))
		}
	}
	if c.day != day {
		c.day, c.bytes = day, 0
	}
	if quota > 0 && c.bytes+bytes > quota {
		midnight := time.Unix((day+1)*86400, 0)
		return nil, &hookline.Error{Code: hookline.ERATELIMITED, RetryAfter: midnight.Sub(now), Message: fmt.Sprintf(
			"source %s has received %d of its %d bytes for today (UTC); this request's %d bytes would exceed them",
			src.ID, c.bytes, quota, bytes)}
	}
	if c.limiter != nil {
		r := c.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, &hookline.Error{Code: hookline.ERATELIMITED, RetryAfter: d, Message: fmt.Sprintf(
				"source %s takes at most %d requests a minute", src.ID, perMinute)}
		}
	}
	c.bytes += bytes
	return &Ticket{g: g, sourceID: src.ID, day: day, reserved: bytes}, nil
}

// Done releases the ticket's slot and gives back the part of its
// reservation beyond the read bytes actually received. Calling it again
// does nothing.
func (t *Ticket) Done(read int64) {
	if t == nil || t.done {
		return
	}
	t.done = true
	if t.slot {
		<-t.g.slots
	}
	if unused := t.reserved - read; unused > 0 {
		t.g.mu.Lock()
		if c := t.g.sources[t.sourceID]; c != nil && c.day == t.day {
			c.bytes -= unused
		}
		t.g.mu.Unlock()
	}
}

// checkAddr refuses remoteAddr (host:port) unless allowed is empty or holds
// a prefix that contains it.
func checkAddr(allowed []string, remoteAddr string) error {
	if len(allowed) == 0 {
		return nil
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err == nil {
		addr := ap.Addr().Unmap()
		for _, s := range allowed {
			if p, err := parsePrefix(s); err == nil && p.Contains(addr) {
				return nil
			}
		}
	}
	return &hookline.Error{Code: hookline.EFORBIDDEN, Message: fmt.Sprintf(
		"this source accepts requests only from its allowed_ips; %s is not among them", ap.Addr())}
}

// parsePrefix reads a CIDR or a single address (as its /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// CheckLimits validates a source's limits as the API saves them.
func CheckLimits(l hookline.SourceLimits) error {
	if len(l.AllowedIPs) > 100 {
		return hookline.Invalid("limits.allowed_ips", "limits.allowed_ips takes at most 100 entries")
	}
	for _, s := range l.AllowedIPs {
		if _, err := parsePrefix(s); err != nil {
			return hookline.Invalid("limits.allowed_ips", "limits.allowed_ips: %q is not an IP address or CIDR (e.g. 192.0.2.0/24)", s)
		}
	}
	if l.RequestsPerMinute < 0 {
		return hookline.Invalid("limits.requests_per_minute", "limits.requests_per_minute must be positive (0 takes the server's default)")
	}
	if l.BytesPerDay < 0 {
		return hookline.Invalid("limits.bytes_per_day", "limits.bytes_per_day must be positive (0 takes the server's default)")
	}
	return nil
}
