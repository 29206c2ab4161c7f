package server

import "github.com/hookline/hookline/internal/listen"

// joinCluster links this node's listen hub with those of the other nodes
// sharing the database: a delivery claimed here for a device connected
// elsewhere is deferred briefly and the node holding the device is told to
// claim it (listen.Hub.JoinPeers). With SQLite, where the node is the whole
// cluster, it does nothing.
//
// Either way, the retention purge forgets listen devices offline for longer
// than the retention.
func (d *devLoop) joinCluster(w *clusterWiring) {
	w.forgetDevices = d.hub.ForgetOffline
	if !w.shared {
		return
	}
	d.hub.JoinPeers(func(payload string) { w.Notify(listen.PeerChannel, payload) })
	w.Subscribe(listen.PeerChannel, d.hub.Peer, nil)
}
