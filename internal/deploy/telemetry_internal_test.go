package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestLogRing: the ring keeps the newest lines, finds by source and text,
// pages back with Before, and a follower gets each new matching line.
func TestLogRing(t *testing.T) {
	l := newLogRing()
	for i := range maxLogLines + 5 {
		l.add(SourceEdge, "", fmt.Sprintf("GET /%d 200", i))
	}
	l.add(SourceApp, "app-1", "Listening")
	lines, seq, _ := l.find(LogQuery{Limit: 3})
	if len(lines) != 3 || lines[2].Text != "Listening" || lines[0].Text != fmt.Sprintf("GET /%d 200", maxLogLines+3) || seq != maxLogLines+6 {
		t.Fatalf("newest: %+v (seq %d)", lines, seq)
	}
	if lines, _, _ := l.find(LogQuery{Source: SourceEdge, Text: "get /5 ", Limit: 10}); len(lines) != 0 {
		t.Fatalf("line 5 should have left the ring: %+v", lines)
	}
	if lines, _, _ := l.find(LogQuery{Source: SourceEdge, Text: "get /10 ", Limit: 10}); len(lines) != 1 || lines[0].Instance != nil {
		t.Fatalf("by text: %+v", lines)
	}
	older, _, _ := l.find(LogQuery{Before: lines[0].Seq, Limit: 2})
	if len(older) != 2 || older[1].Seq != lines[0].Seq-1 {
		t.Fatalf("before %d: %+v", lines[0].Seq, older)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan LogLine, 10)
	go func() {
		_ = l.follow(ctx, LogQuery{Source: SourceApp, After: seq, Limit: 100}, func(line LogLine) error {
			got <- line
			return nil
		})
	}()
	time.Sleep(20 * time.Millisecond)
	l.add(SourceEdge, "", "GET / 200")
	l.add(SourceApp, "app-1", "second")
	select {
	case line := <-got:
		if line.Text != "second" || *line.Instance != "app-1" {
			t.Fatalf("followed: %+v", line)
		}
	case <-ctx.Done():
		t.Fatal("the follower got nothing")
	}
}

// TestTrafficPoints: requests land in their step with their class and
// latency, every step of the window is present, and quantiles come from
// the histogram within its 25 %.
func TestTrafficPoints(t *testing.T) {
	var tr traffic
	now := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		tr.record(now, 200, time.Duration(i+1)*time.Millisecond)
	}
	tr.record(now, 503, time.Millisecond)
	tr.record(now.Add(-20*time.Minute), 404, time.Millisecond) // outside 15m
	tr.instances(now, 3)
	step, points, ok := tr.points(now, "15m")
	if !ok || step != 10*time.Second || len(points) != 90 {
		t.Fatalf("window: %v %d %v", step, len(points), ok)
	}
	last := points[len(points)-1]
	if last.Requests != 101 || last.S2xx != 100 || last.S5xx != 1 || last.Instances != 3 || last.P50Ms == nil || last.P95Ms == nil {
		t.Fatalf("last step: %+v", last)
	}
	if *last.P50Ms < 50 || *last.P50Ms > 50*1.25 || *last.P95Ms < 95 || *last.P95Ms > 95*1.25 {
		t.Fatalf("quantiles: p50 %v p95 %v", *last.P50Ms, *last.P95Ms)
	}
	total := 0
	for _, p := range points {
		total += p.Requests
	}
	if total != 101 {
		t.Fatalf("15m holds %d requests", total)
	}
	if _, points, _ := tr.points(now, "24h"); len(points) != 144 || points[len(points)-1].Requests != 101 || points[len(points)-3].S4xx != 1 {
		t.Fatalf("24h: %d points, last %+v", len(points), points[len(points)-1])
	}
	if _, _, ok := tr.points(now, "2d"); ok {
		t.Fatal("2d is not a window")
	}
}
