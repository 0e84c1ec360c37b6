package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// prepareDataDir lets sandbox uids pass through the data dir to their own
// project (search, not read: 0711) and keeps the database to the server.
func prepareDataDir(dir string) error {
	// With PostgreSQL nothing has made it yet.
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// What a killed server was grading is graded again from the queue; its
	// copies are of no use.
	if err := os.RemoveAll(filepath.Join(dir, "grading")); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	for _, sub := range []string{"projects", "caches", "grading"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o711); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		if err := os.Chmod(filepath.Join(dir, sub), 0o711); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	for _, f := range []string{"ecode.db", "ecode.db-wal", "ecode.db-shm"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	return nil
}

// loadKey reads the server's signing key, creating it on first start.
func loadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}
