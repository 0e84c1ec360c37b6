package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// RelayFilePath is what the agent asks a relay that keeps a file for.
const RelayFilePath = "/.ecode/relay-file"

// How often a relay's file is fetched again, and again after a failure.
const (
	fileEvery = time.Hour
	fileRetry = 10 * time.Second
)

// keepFile writes what the relay on port answers at RelayFilePath to
// path, replacing it whole, now and every fileEvery until ctx ends: the
// host's service hands out a fresh credential, and clients that read the
// file (Replit's database clients read /tmp/replitdb every hour) never hold
// an expired one.
func keepFile(ctx context.Context, port int, path string) {
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + RelayFilePath
	for {
		wait := fileEvery
		if err := fetchFile(ctx, client, url, path); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox-agent: relay file %s: %v\n", path, err)
			wait = fileRetry
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func fetchFile(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("relay answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
