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

// ExecBehindBack runs q on s's database as someone who can write the file
// but goes past the store would, and forgets the endpoints s caches, as a
// restart would, so that s reads what q wrote.
func ExecBehindBack(s *Store, q string, args ...any) error {
	_, err := s.w.Exec(q, args...)
	s.invalidateEndpoints()
	return err
}

// QueryBehindBack returns the one text value q selects from s's database.
func QueryBehindBack(s *Store, q string, args ...any) (string, error) {
	var v string
	err := s.w.QueryRow(q, args...).Scan(&v)
	return v, err
}
