package hookline

import "time"

// Tuning is how a store wants to be driven, declared by the store so that
// the server need not know which database it has.
type Tuning struct {
	// Committers is how many publish transactions may be open at once:
	// 1 for a database with a single writer.
	Committers int
	// Linger is how long a publish batch waits for more under concurrent
	// load, trading publish latency for fewer, larger commits.
	Linger time.Duration
	// SpareProcessor asks for one Go processor more than there are CPUs,
	// for a store that does work on a thread of its own (at low priority)
	// which would otherwise hold a processor the requests need.
	SpareProcessor bool
	// Shared is true for a database several nodes may share: they tell
	// each other of work through it, take turns at run-once jobs, and keep
	// the API key's hash in it, and a node has no data directory of its
	// own (no disk to watch, no URL file for the CLI).
	Shared bool
}

// Tuned is a store that declares its Tuning.
type Tuned interface {
	Tuning() Tuning
}

// TuningOf returns store's declared tuning, or one committer without
// lingering for a store that declares none.
func TuningOf(store any) Tuning {
	if t, ok := store.(Tuned); ok {
		return t.Tuning()
	}
	return Tuning{Committers: 1}
}
