package app

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// A listen device (`hookline listen --name <device>`) is an ordinary
// endpoint whose URL is listen://<device>, found again by name through a
// setting. These are its use cases; internal/listen keeps the device's
// websocket and calls them.

// ListenScheme is the scheme of listen device endpoint URLs.
const ListenScheme = "listen"

// ByListen is the listen hub, as an Actor.
const ByListen Actor = "listen"

const (
	// deviceSettingPrefix names the setting that maps a device name to its
	// endpoint.
	deviceSettingPrefix = "listen.device."
	// deviceSeenPrefix names the setting that keeps when a device was last
	// seen (Unix seconds).
	deviceSeenPrefix = "listen.seen."
)

var deviceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// ValidDeviceName reports whether name can name a device: 1 to 63 letters,
// digits, dots, dashes and underscores, starting with a letter or digit
// (every host name qualifies).
func ValidDeviceName(name string) bool { return deviceNameRE.MatchString(name) }

// DeviceSettings is what `hookline listen` asks of its device; the zero
// value changes nothing on an existing device.
type DeviceSettings struct {
	// Events, when non-empty, replaces what the device subscribes to.
	Events []string
	// Scheme, when set, is how its deliveries are signed from now on:
	// hookline.SchemeStandard or hookline.SchemeStripe. The secret is the
	// same either way, so switching needs no new secret in the app.
	Scheme string
}

// params is set as the endpoint rules (apply) take it: what is not set is
// left alone.
func (set DeviceSettings) params() EndpointParams {
	var p EndpointParams
	if len(set.Events) > 0 {
		p.EnabledEvents = &set.Events
	}
	if set.Scheme != "" {
		p.SignatureScheme = &set.Scheme
	}
	return p
}

// ListenDevice returns the endpoint of the named device, creating it on
// first use, and applies set to it under the rules of every endpoint (the
// event patterns, their count, the signature scheme). A disabled device
// endpoint is enabled again, since a developer reconnecting wants events,
// and the engine woken for what waited. The caller serializes the calls
// for one name (the hub holds its lock).
func (a *App) ListenDevice(ctx context.Context, name string, set DeviceSettings) (*hookline.Endpoint, error) {
	if !ValidDeviceName(name) {
		return nil, hookline.Invalid("name", "device name %q must be 1 to 63 letters, digits, '.', '-' or '_'", name)
	}
	p := set.params()
	// Checked on a scratch endpoint first, so bad settings cost no lookup.
	if err := a.apply(ctx, &hookline.Endpoint{}, p, ByListen); err != nil {
		return nil, err
	}
	ep, err := a.ListenDeviceEndpoint(ctx, name)
	if err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
		return nil, err
	}
	now := a.cfg.Now()
	if ep == nil {
		ep = &hookline.Endpoint{
			ID: hookline.NewID("ep"), URL: ListenScheme + "://" + name, EnabledEvents: []string{"*"},
			Description: "hookline listen --name " + name, Metadata: map[string]string{"listen_device": name},
			Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
			Secret: webhook.NewSecret(), Created: now, Updated: now,
		}
		if err := a.apply(ctx, ep, p, ByListen); err != nil {
			return nil, err
		}
		if err := a.cfg.Store.CreateEndpoint(ctx, ep); err != nil {
			return nil, fmt.Errorf("creating listen device %s: %w", name, err)
		}
		if err := a.cfg.Store.SetSetting(ctx, deviceSettingPrefix+name, ep.ID); err != nil {
			return nil, fmt.Errorf("naming listen device %s: %w", name, err)
		}
		a.cfg.Logger.Info("listen device created", "device", name, "endpoint", ep.ID)
		a.ListenDeviceSeen(ctx, name)
		return ep, nil
	}
	a.ListenDeviceSeen(ctx, name)
	events, scheme, status := slices.Clone(ep.EnabledEvents), ep.SignatureScheme, ep.Status
	if err := a.apply(ctx, ep, p, ByListen); err != nil {
		return nil, err
	}
	if ep.Status != hookline.EndpointEnabled {
		ep.Status, ep.DisabledReason, ep.FailingSince = hookline.EndpointEnabled, "", time.Time{}
	}
	if slices.Equal(events, ep.EnabledEvents) && scheme == ep.SignatureScheme && status == ep.Status {
		return ep, nil
	}
	ep.Updated = now
	if err := a.cfg.Store.UpdateEndpoint(ctx, ep); err != nil {
		return nil, fmt.Errorf("updating listen device %s: %w", name, err)
	}
	if status != ep.Status {
		a.wake() // its waiting deliveries are due again
	}
	return ep, nil
}

// ListenDeviceEndpoint finds a device's endpoint by name; ENOTFOUND when it
// has none, or when its endpoint was deleted.
func (a *App) ListenDeviceEndpoint(ctx context.Context, name string) (*hookline.Endpoint, error) {
	id, err := a.cfg.Store.Setting(ctx, deviceSettingPrefix+name)
	if err != nil {
		return nil, err
	}
	return a.cfg.Store.Endpoint(ctx, id)
}

// ListenDeviceConnected records that the named device connected, and
// wakes the engine: what waited for the device is due now.
func (a *App) ListenDeviceConnected(ctx context.Context, name string) {
	a.ListenDeviceSeen(ctx, name)
	a.wake()
}

// ListenDeviceSeen records that the device is seen now. Losing it only
// makes the device look idle longer, so a failure is logged, not
// returned.
func (a *App) ListenDeviceSeen(ctx context.Context, name string) {
	if err := a.cfg.Store.SetSetting(ctx, deviceSeenPrefix+name, strconv.FormatInt(a.cfg.Now().Unix(), 10)); err != nil {
		a.cfg.Logger.Warn("marking listen device seen", "device", name, "err", err)
	}
}

// listenDeviceLastSeen is when the device was last seen; for a device made
// before this was recorded, when its endpoint last changed.
func (a *App) listenDeviceLastSeen(ctx context.Context, name string, ep *hookline.Endpoint) time.Time {
	v, err := a.cfg.Store.Setting(ctx, deviceSeenPrefix+name)
	if err == nil {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(s, 0)
		}
	}
	return ep.Updated
}

// ForgetListenDevice deletes the named device's endpoint, with the
// deliveries that wait for it, and its name: the next `hookline listen
// --name` with that name makes a new device with a new secret. ENOTFOUND
// when there is no such device. The caller serializes it with ListenDevice
// and closes the device's connection.
func (a *App) ForgetListenDevice(ctx context.Context, name string) (*hookline.Endpoint, error) {
	ep, err := a.ListenDeviceEndpoint(ctx, name)
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return nil, hookline.NotFound("listen device", name)
		}
		return nil, err
	}
	if err := a.cfg.Store.DeleteEndpoint(ctx, ep.ID); err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
		return nil, fmt.Errorf("forgetting listen device %s: %w", name, err)
	}
	// The store has no way to delete a setting; an empty one names no
	// endpoint, which ListenDeviceEndpoint reads as no device.
	if err := a.cfg.Store.SetSetting(ctx, deviceSettingPrefix+name, ""); err != nil {
		return nil, fmt.Errorf("forgetting listen device %s: %w", name, err)
	}
	a.cfg.Logger.Info("listen device forgotten", "device", name, "endpoint", ep.ID)
	return ep, nil
}

// IdleListenDevices returns the names of the devices not seen since
// cutoff, leaving out those busy says are in use (connected to a node).
func (a *App) IdleListenDevices(ctx context.Context, cutoff time.Time, busy func(name string) bool) ([]string, error) {
	var idle []string
	page := hookline.Page{Limit: 100}
	for {
		eps, more, err := a.cfg.Store.ListEndpoints(ctx, hookline.EndpointFilter{Page: page})
		if err != nil {
			return nil, fmt.Errorf("listing listen devices: %w", err)
		}
		for _, ep := range eps {
			name, ok := strings.CutPrefix(ep.URL, ListenScheme+"://")
			if !ok || busy(name) {
				continue
			}
			if a.listenDeviceLastSeen(ctx, name, ep).Before(cutoff) {
				idle = append(idle, name)
			}
		}
		if !more || len(eps) == 0 {
			return idle, nil
		}
		page.StartingAfter = eps[len(eps)-1].ID
	}
}

// WakeEngine tells the engine that deliveries may be due: for a transport
// that learns so outside a change (another node holding a listen device
// asks for its deliveries).
func (a *App) WakeEngine() { a.wake() }
