package collab

import "time"

// BenchDoc exposes a document to benchmarks outside the package.
type BenchDoc struct{ d *doc }

// NewDocForBench makes a document saved by save, for benchmarks.
func NewDocForBench(path, text string, save func(path, text string) error) BenchDoc {
	return BenchDoc{newDoc(path, text, save)}
}

// Push applies updates made at version.
func (b BenchDoc) Push(version int, updates []Update) error { return b.d.push(version, updates) }

// Settle waits until everything pushed is on disk.
func (b BenchDoc) Settle() {
	for {
		b.d.mu.Lock()
		busy := b.d.flushing
		b.d.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
