// Command coldstart measures how long `ecode serve` takes from exec to its
// first healthy answer, and its resident memory once idle.
//
//	go run ./bench/coldstart -bin bin/ecode -n 20
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/ecode", "ecode binary")
	n := flag.Int("n", 20, "starts to measure")
	idle := flag.Duration("idle", 2*time.Second, "how long to idle before reading RSS")
	warm := flag.Bool("warm", false, "reuse one data dir, so only the first start migrates")
	flag.Parse()

	var starts []time.Duration
	var rss []int
	shared, _ := os.MkdirTemp("", "ecode-bench-")
	defer os.RemoveAll(shared)
	for i := range *n {
		dir := shared
		if !*warm {
			dir = fmt.Sprintf("%s/%d", shared, i)
		}
		d, kb, err := once(*bin, dir, *idle)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coldstart:", err)
			os.Exit(1)
		}
		starts = append(starts, d)
		rss = append(rss, kb)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Ints(rss)
	fmt.Printf("starts=%d median=%s p95=%s min=%s max=%s\n", len(starts), starts[len(starts)/2].Round(100*time.Microsecond),
		starts[len(starts)*95/100].Round(100*time.Microsecond), starts[0].Round(100*time.Microsecond), starts[len(starts)-1].Round(100*time.Microsecond))
	fmt.Printf("idle RSS median=%.1f MiB max=%.1f MiB\n", float64(rss[len(rss)/2])/1024, float64(rss[len(rss)-1])/1024)
}

func once(bin, dir string, idle time.Duration) (time.Duration, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "-addr", addr, "-data-dir", dir, "-log-level", "error")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for {
		res, err := client.Get("http://" + addr + "/api/monitoring/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("no healthy answer from %s", addr)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(idle)
	kb, err := rssKB(cmd.Process.Pid)
	return took, kb, err
}

func rssKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
