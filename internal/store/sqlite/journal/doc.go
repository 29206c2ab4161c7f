// Package journal is the SQLite store's write-ahead journal: an append-only
// log of records that makes a write durable with one write and one sync of
// a preallocated file, instead of a SQLite transaction that would write
// every b-tree page the write touches. The store keeps what it journaled in
// memory and copies it into SQLite later, in large transactions; at Open, it
// replays the segments an earlier process left. This package knows records
// as opaque bodies; what a body holds is the store's business, specified
// beside its encoders (internal/store/sqlite/journal.go). The store
// versions its bodies itself, by the kind byte that starts each, and keeps
// reading the kinds it wrote before: a new body layout (such as the
// attempt's error kind, added to completions) changes no segment version.
//
// # Segments
//
// The journal is a sequence of segment files in the data directory, named
// <prefix><seq> (prefix is "hookline.db.journal."), where seq is the
// segment's number. Numbers only grow: a new segment takes the highest
// number found at Open (numbered segments, segments set aside, and the
// number the spare last had, which its header keeps) plus one, and the
// spare always holds the highest number retired, so a number is never
// given twice. A segment is preallocated to Options.SegmentSize (8 MiB),
// zero-filled and synced when made, so that an append overwrites
// allocated blocks and its sync flushes data alone. A segment whose
// records are all in SQLite is retired: renamed to <prefix>spare, which
// the next segment reuses instead of zero-filling a new file, replacing
// the spare when it has a higher number, deleted otherwise. A spare left
// by an earlier process is zero-filled again before reuse (a crash in its
// zero-fill may have left holes whose allocation no range sync makes
// durable); one without a header (the format before headers keeps no
// number) is deleted at Open. A segment with a damaged record is set
// aside once its intact records are in SQLite: renamed to
// <prefix><seq>.damaged, never replayed or reused again, for someone to
// inspect.
//
// A segment starts with a 32-byte header, little-endian:
//
//	[0:8]   magic "HLJOURNL"
//	[8:12]  format version (1)
//	[12:16] CRC-32C (Castagnoli) of bytes [16:32]
//	[16:24] seq, the segment's number
//	[24:32] salt, 8 random bytes drawn when the segment (or the spare
//	        reused as it) is started
//
// A header whose seq is not the number in the file's name belongs to an
// earlier life of the file (a spare renamed, the crash coming before its
// new header was written): the segment holds nothing to replay. Version 0
// is the format before headers (a record: length, CRC-32C of seq and body,
// body); its segments are still replayed, so that an upgrade after a crash
// loses nothing. A newer version is refused.
//
// # Records
//
// Records follow the header, back to back:
//
//	[0:4]   record magic "HLR1"
//	[4:8]   body length n (> 0)
//	[8:12]  CRC-32C of salt, seq, the length and the body
//	[12:12+n] body
//
// The salt in every checksum is what keeps the records of a file's earlier
// life (a reused spare keeps its old bytes after the new records) from
// ever validating again. Replay reads records from the header on. At a
// record that does not validate it looks for the next offset holding the
// record magic and a valid record: if there is none, it has reached the end
// (zeros, an earlier life's records, or a record cut short by a crash, never
// acknowledged); if there is one, the bytes between are damage. Damage is
// logged as an error naming the file, the offset and the length skipped;
// every intact record after it is replayed, and the segment is set aside
// instead of retired. A damaged record costs only its own contents. Damage
// to the last record of a segment looks like a record cut short and is not
// reported: nothing valid follows it to tell the two apart.
//
// # Durability
//
// Append writes a record and returns a function that waits for it to be
// durable; the caller acknowledges whatever the record holds only after
// that returns nil. A wait makes the whole segment durable up to the end
// of the last record written when its sync started, not only its own
// bytes: the journal keeps a durable watermark, each sync covers
// everything from the watermark it found to everything written when it
// started and then raises the watermark to there, a wait whose record a
// finished sync covered returns without a sync of its own, and a record is
// acknowledged only below the watermark. Syncs run one at a time: waits
// that arrive during one wait for it, all woken when it ends, and share
// the next (group commit), which is also faster than concurrent syncs
// (BenchmarkConcurrentWaits: about 3 times the records per second).
// Concurrent syncs would be unsafe: when writeback fails the kernel marks
// the pages clean and reports the error to one sync alone, so another
// sync overlapping it could succeed and raise the watermark over bytes
// that are gone.
// Any number of goroutines may append; a record is never acknowledged
// while an earlier record of the same segment may still be lost, so replay
// stopping at the first gap can lose nothing acknowledged. Inside the
// preallocated size, a sync is File.SyncRange of the bytes since the
// watermark; past it (a record larger than the segment grew the file),
// File.Sync. A sync that fails fails every later append and wait: after a
// failed fsync the kernel may have dropped the dirty pages, and only a
// restart, replaying what is on disk, tells what survived. With
// Options.Sync false (synchronous=NORMAL), waits return at once: records
// survive a crash of the process, not of the machine.
//
// Starting a segment syncs its header and zero-fill and then the data
// directory before any record is written to it; retiring or setting aside a
// segment syncs the directory before it returns nil, so that a segment the
// caller stopped depending on does not reappear after a power cut. When
// either fails, the segment may reappear: the caller must go on treating
// its records as replayable (the store keeps their events from retention)
// and call it again until it succeeds.
//
// A power cut may also keep some writes that were never synced: a renamed
// spare under its new number with its old header (harmless: a header
// whose number is not the file's holds nothing to replay), or a later page
// of a segment without an earlier one. The latter reads as damage
// followed by intact records: after an ordinary power cut, it is logged
// and the segment set aside although nothing acknowledged was lost (the
// missing record's wait had not returned).
//
// # Locks and memory
//
// Journal.mu serialises appends and rotation; Journal.fmu is held for
// reading by each append from its write until its wait returns, and for
// writing by Rotate, which so closes a segment only once every wait on it
// has returned; Journal.syncMu guards which sync runs (one at a time),
// taken briefly by a wait while it holds fmu for reading; Journal.spareMu guards the spare.
// Order: mu, then fmu, then syncMu or spareMu. A wait whose record
// a finished sync covered takes no lock but fmu: the watermark is atomic.
// The store takes its own locks (Store.jmu,
// then Store.bmu) before any of these, with one exception: between Append
// and its wait, holding fmu for reading, it takes Store.bmu. That cannot
// deadlock with Rotate, which waits for fmu holding Store.bmu, only because
// the store does so while it still holds Store.jmu, which every caller of
// Rotate holds too; a wait taken after jmu is released takes no store
// lock. The journal holds in memory only
// the open segment and its offsets; the records' contents live in the
// store's memory until it flushes them into SQLite, and it bounds that
// memory in bytes.
//
// All file access goes through FS, so that tests can run the journal on a
// file system that forgets every write not synced at a simulated power cut
// (package crashfs).
package journal
