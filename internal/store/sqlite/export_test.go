package sqlite

// PauseFlushes stops s's background flushes, so that published events stay
// in the journal alone until something reads or writes the database.
func PauseFlushes(s *Store) {
	close(s.stopFlush)
	<-s.flushDone
	s.flushDone = nil
}

// JournalTail returns the current journal segment's path and the bytes
// written to it.
func JournalTail(s *Store) (string, int64) {
	return s.jrnl.Tail()
}

// PendingBytes returns about how many bytes of events and completions wait
// in memory for a flush, and the bound publishers keep it under.
func PendingBytes(s *Store) (int64, int64) {
	return s.pendingBytes.Load(), maxPendingBytes
}
