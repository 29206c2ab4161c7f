package app

// Prepared is how many attempts t has turned into TailAttempts.
func (t *Tail) Prepared() int64 { return t.prepared.Load() }
