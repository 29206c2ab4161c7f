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
