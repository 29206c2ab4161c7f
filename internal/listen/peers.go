package listen

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// PeerChannel is the notification channel on which the hubs of nodes
// sharing a database tell each other where listen devices are connected.
const PeerChannel = "hookline_listen"

// RemoteDefer is how long a delivery waits when its device is connected
// to another node: just long enough for that node, told at once, to claim
// it. A node that claims a delivery for a device it does not hold cannot
// send it; without peers it waits OfflineDefer and the node holding the
// device finds it only at its next poll.
const RemoteDefer = 50 * time.Millisecond

const (
	// peerHeldTTL is how long a peer's word that it holds a device is
	// believed without being repeated (a node that crashed never says
	// "gone"); after it, deliveries wait OfflineDefer again.
	peerHeldTTL = 30 * time.Second
	// peerAnswerEvery bounds how often a node repeats that it holds a
	// device, however many deliveries others defer for it.
	peerAnswerEvery = time.Second
	// peerWantEvery bounds how often a node asks for one device: the one
	// holding it wakes once for every delivery deferred in that window.
	peerWantEvery = 25 * time.Millisecond
	// peerWakeSlack is added to the wake-up so the deliveries are due by
	// then (nodes' clocks agree only roughly; the poll is the fallback).
	peerWakeSlack = 10 * time.Millisecond
)

// Peer messages, "<verb> <device> <hub>[ <defer ms>]":
//
//	want: a delivery to the device was deferred here by <defer ms>; the
//	      node holding it wakes its engine when that has passed
//	have: the device is connected to <hub>
//	gone: the device disconnected from <hub>
const (
	peerWant = "want"
	peerHave = "have"
	peerGone = "gone"
)

// peers is a hub's view of the other nodes' devices.
type peers struct {
	notify func(payload string)
	self   string // this hub's id, to ignore its own messages

	mu       sync.Mutex
	held     map[string]time.Time // device → when another node last said it holds it
	answered map[string]time.Time // device → when this node last said it holds it
	wanted   map[string]time.Time // device → when this node last asked for it
}

// JoinPeers makes the hub work with the hubs of other nodes that share its
// database, so that a device connected to any node gets every node's
// deliveries promptly. notify must send payload on PeerChannel to every
// node, this one included, without blocking for long; the node must pass
// every payload received on PeerChannel to Peer. Without JoinPeers (one
// node, SQLite) a hub defers deliveries to devices it does not hold by
// OfflineDefer and tells no one. Call it before the engine starts.
func (h *Hub) JoinPeers(notify func(payload string)) {
	h.peers.Store(&peers{
		notify: notify, self: hookline.NewID("hub"),
		held: map[string]time.Time{}, answered: map[string]time.Time{}, wanted: map[string]time.Time{},
	})
}

// Peer handles a message another node's hub sent on PeerChannel. Messages
// it does not understand are ignored, for the sake of newer nodes.
func (h *Hub) Peer(payload string) {
	p := h.peers.Load()
	if p == nil {
		return
	}
	f := strings.Fields(payload)
	if len(f) < 3 || f[2] == p.self {
		return
	}
	verb, name := f[0], f[1]
	now := time.Now()
	switch verb {
	case peerWant:
		if !h.Connected(name) {
			return
		}
		ms, _ := strconv.Atoi(strings.Join(f[3:], ""))
		time.AfterFunc(time.Duration(ms)*time.Millisecond+peerWantEvery+peerWakeSlack, h.wake)
		p.mu.Lock()
		answer := now.Sub(p.answered[name]) >= peerAnswerEvery
		if answer {
			p.answered[name] = now
		}
		p.mu.Unlock()
		if answer {
			go p.notify(peerHave + " " + name + " " + p.self)
		}
	case peerHave:
		p.mu.Lock()
		p.held[name] = now
		p.mu.Unlock()
	case peerGone:
		p.mu.Lock()
		delete(p.held, name)
		p.mu.Unlock()
	}
}

// offline returns how long to defer a delivery to a device that is not
// connected here: RemoteDefer when another node recently said it holds the
// device, else OfflineDefer. With peers, the node holding the device is
// told, so that it claims the delivery as soon as it is due.
func (h *Hub) offline(name string) time.Duration {
	p := h.peers.Load()
	if p == nil {
		return OfflineDefer
	}
	now := time.Now()
	d := OfflineDefer
	p.mu.Lock()
	if at, ok := p.held[name]; ok && now.Sub(at) < peerHeldTTL {
		d = RemoteDefer
	}
	ask := now.Sub(p.wanted[name]) >= peerWantEvery
	if ask {
		p.wanted[name] = now
	}
	p.mu.Unlock()
	if ask {
		go p.notify(peerWant + " " + name + " " + p.self + " " + strconv.FormatInt(d.Milliseconds(), 10))
	}
	return d
}

// announce tells the other nodes that this one now holds the device
// (peerHave) or no longer does (peerGone).
func (h *Hub) announce(verb, name string) {
	p := h.peers.Load()
	if p == nil {
		return
	}
	if verb == peerGone && h.Connected(name) {
		return // a newer connection replaced the one that ended
	}
	if verb == peerHave {
		p.mu.Lock()
		p.answered[name] = time.Now()
		p.mu.Unlock()
	}
	go p.notify(verb + " " + name + " " + p.self)
}
