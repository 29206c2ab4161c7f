package journal

import (
	"sync"
	"testing"
)

// BenchmarkConcurrentWaits: 32 goroutines append 1 KB records to a
// journal on the OS's files and wait for each to be durable, as
// publishers do, and reports records made durable per second. Run it with
//
//	go test ./internal/store/sqlite/journal -run '^$' -bench ConcurrentWaits
func BenchmarkConcurrentWaits(b *testing.B) {
	const appenders = 32
	j, _, err := Open(b.TempDir(), "hookline.db.journal.", Options{Sync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	body := make([]byte, RecordHeader+1024)
	var mu sync.Mutex // rotation is the caller's, as in the store
	var wg sync.WaitGroup
	b.ResetTimer()
	per := b.N/appenders + 1
	for range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := make([]byte, len(body))
			for range per {
				copy(rec, body)
				mu.Lock()
				if !j.Fits(len(rec)) {
					old, err := j.Rotate()
					if err == nil {
						err = j.Retire(old)
					}
					if err != nil {
						mu.Unlock()
						b.Error(err)
						return
					}
				}
				wait, err := j.Append(rec)
				mu.Unlock()
				if err == nil {
					err = wait()
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*appenders)/b.Elapsed().Seconds(), "records/s")
}
