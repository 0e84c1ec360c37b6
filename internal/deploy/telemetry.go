package deploy

import (
	"bytes"
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// What the edge counts of a deployment's traffic, and the lines its
// instances print, are kept in memory per project, bounded: a day of
// traffic in steps, the last maxLogLines lines.

// Steps of the traffic rings: fine for the last hour, coarse for a day.
const (
	fineStep    = 10 // seconds
	fineSteps   = 360
	coarseStep  = 300
	coarseSteps = 288
)

// Latency buckets grow by latGrowth from latBase: 60 of them reach past a
// minute, and a percentile read from them is within 25 %.
const (
	latBuckets = 60
	latBase    = 0.1 // ms
	latGrowth  = 1.25
)

var logGrowth = math.Log(latGrowth)

func latBucket(ms float64) int {
	if ms <= latBase {
		return 0
	}
	return min(int(math.Log(ms/latBase)/logGrowth)+1, latBuckets-1)
}

// latUpper is the upper bound of bucket i in ms.
func latUpper(i int) float64 { return latBase * math.Pow(latGrowth, float64(i)) }

type bucket struct {
	start     int64 // unix seconds the step began; another value means the slot is stale
	requests  uint32
	class     [4]uint32 // 2xx 3xx 4xx 5xx
	instances uint16
	lat       [latBuckets]uint32
}

func (b *bucket) at(start int64) *bucket {
	if b.start != start {
		*b = bucket{start: start}
	}
	return b
}

func (b *bucket) add(o *bucket) {
	b.requests += o.requests
	for i := range b.class {
		b.class[i] += o.class[i]
	}
	b.instances = max(b.instances, o.instances)
	for i := range b.lat {
		b.lat[i] += o.lat[i]
	}
}

// quantile reads the q-quantile of the latencies, nil without requests.
func (b *bucket) quantile(q float64) *float64 {
	var n uint64
	for _, c := range b.lat {
		n += uint64(c)
	}
	if n == 0 {
		return nil
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i, c := range b.lat {
		seen += uint64(c)
		if seen >= rank {
			v := math.Round(latUpper(i)*100) / 100
			return &v
		}
	}
	return nil
}

// MetricPoint is one step of a deployment's traffic.
type MetricPoint struct {
	T         int64    `json:"t"`
	Requests  int      `json:"requests"`
	S2xx      int      `json:"s2xx"`
	S3xx      int      `json:"s3xx"`
	S4xx      int      `json:"s4xx"`
	S5xx      int      `json:"s5xx"`
	P50Ms     *float64 `json:"p50Ms"`
	P95Ms     *float64 `json:"p95Ms"`
	Instances int      `json:"instances"`
}

// windows are the spans the metrics answer: their step and which ring.
var windows = map[string]struct {
	span, step time.Duration
	coarse     bool
}{
	"15m": {15 * time.Minute, 10 * time.Second, false},
	"1h":  {time.Hour, 30 * time.Second, false},
	"6h":  {6 * time.Hour, 5 * time.Minute, true},
	"24h": {24 * time.Hour, 10 * time.Minute, true},
}

// traffic is one deployment's counters.
type traffic struct {
	mu     sync.Mutex
	fine   [fineSteps]bucket
	coarse [coarseSteps]bucket
	// The project's series in the platform's Prometheus metrics.
	classes  [4]prometheus.Counter
	duration prometheus.Observer
	gauge    prometheus.Gauge
}

func classOf(status int) int {
	switch {
	case status < 300:
		return 0
	case status < 400:
		return 1
	case status < 500:
		return 2
	}
	return 3
}

func (t *traffic) record(now time.Time, status int, d time.Duration) {
	sec := now.Unix()
	ms := float64(d) / float64(time.Millisecond)
	c, l := classOf(status), latBucket(ms)
	t.mu.Lock()
	for _, b := range []*bucket{
		t.fine[(sec/fineStep)%fineSteps].at(sec - sec%fineStep),
		t.coarse[(sec/coarseStep)%coarseSteps].at(sec - sec%coarseStep),
	} {
		b.requests++
		b.class[c]++
		b.lat[l]++
	}
	t.mu.Unlock()
	if t.classes[c] != nil {
		t.classes[c].Inc()
		t.duration.Observe(d.Seconds())
	}
}

// instances records how many instances run now.
func (t *traffic) instances(now time.Time, n int) {
	sec := now.Unix()
	t.mu.Lock()
	for _, b := range []*bucket{
		t.fine[(sec/fineStep)%fineSteps].at(sec - sec%fineStep),
		t.coarse[(sec/coarseStep)%coarseSteps].at(sec - sec%coarseStep),
	} {
		b.instances = max(b.instances, uint16(n))
	}
	t.mu.Unlock()
	if t.gauge != nil {
		t.gauge.Set(float64(n))
	}
}

// points answers a window, oldest step first, every step present.
func (t *traffic) points(now time.Time, window string) (time.Duration, []MetricPoint, bool) {
	w, ok := windows[window]
	if !ok {
		return 0, nil, false
	}
	ring, slot := t.fine[:], int64(fineStep)
	if w.coarse {
		ring, slot = t.coarse[:], coarseStep
	}
	step := int64(w.step / time.Second)
	end := now.Unix() - now.Unix()%step + step // the current step's end
	first := end - int64(w.span/time.Second)
	out := make([]MetricPoint, 0, int64(w.span/time.Second)/step)
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := first; s < end; s += step {
		var sum bucket
		for sub := s; sub < s+step; sub += slot {
			b := &ring[(sub/slot)%int64(len(ring))]
			if b.start == sub {
				sum.add(b)
			}
		}
		out = append(out, MetricPoint{T: s * 1000, Requests: int(sum.requests), S2xx: int(sum.class[0]), S3xx: int(sum.class[1]),
			S4xx: int(sum.class[2]), S5xx: int(sum.class[3]), P50Ms: sum.quantile(0.5), P95Ms: sum.quantile(0.95), Instances: int(sum.instances)})
	}
	return w.step, out, true
}

// promMetrics are the edge's series in the platform's registry.
type promMetrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	instances *prometheus.GaugeVec
}

func newPromMetrics(reg prometheus.Registerer) *promMetrics {
	if reg == nil {
		return nil
	}
	m := &promMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ecode_deploy_requests_total",
			Help: "Requests the edge answered for a deployment, by status class."}, []string{"project", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ecode_deploy_request_duration_seconds",
			Help: "Time from a request reaching the edge to its response headers.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)},
			[]string{"project"}),
		instances: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ecode_deploy_instances",
			Help: "Instances of a deployment running now."}, []string{"project"}),
	}
	reg.MustRegister(m.requests, m.duration, m.instances)
	return m
}

func (m *promMetrics) forget(projectID string) {
	if m == nil {
		return
	}
	m.requests.DeletePartialMatch(prometheus.Labels{"project": projectID})
	m.duration.DeleteLabelValues(projectID)
	m.instances.DeleteLabelValues(projectID)
}

// Log sources.
const (
	SourceApp      = "app"
	SourceEdge     = "edge"
	SourcePlatform = "platform"
)

// LogLine is one line of a deployment's runtime log.
type LogLine struct {
	Seq      int64   `json:"seq"`
	T        int64   `json:"t"`
	Source   string  `json:"source"`
	Instance *string `json:"instance"`
	Text     string  `json:"text"`
}

const (
	maxLogLines = 10000
	maxLineLen  = 4096
)

// logRing is a deployment's last maxLogLines lines; followers wait on
// changed, which the next line closes. It is made only when someone
// reads: a line per request must not cost a channel.
type logRing struct {
	mu      sync.Mutex
	lines   []LogLine // a ring: next is where the next line goes once full
	next    int
	seq     int64
	changed chan struct{}
}

func newLogRing() *logRing { return &logRing{} }

func (l *logRing) add(source, instance, text string) {
	if len(text) > maxLineLen {
		text = text[:maxLineLen] + "…"
	}
	line := LogLine{T: time.Now().UnixMilli(), Source: source, Text: text}
	if instance != "" {
		line.Instance = &instance
	}
	l.mu.Lock()
	l.seq++
	line.Seq = l.seq
	if len(l.lines) < maxLogLines {
		l.lines = append(l.lines, line)
	} else {
		l.lines[l.next] = line
		l.next = (l.next + 1) % maxLogLines
	}
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
	l.mu.Unlock()
}

// LogQuery picks lines of a deployment's log.
type LogQuery struct {
	Text   string // lines holding it, any case
	Source string // "", "all", app, edge or platform
	Before int64  // lines older than this seq; 0: up to the newest
	After  int64  // lines newer than this seq
	Limit  int
}

func (q LogQuery) match(l *LogLine) bool {
	if q.Source != "" && q.Source != "all" && l.Source != q.Source && !(q.Source == SourceApp && l.Source == SourcePlatform) {
		return false
	}
	if q.Before > 0 && l.Seq >= q.Before || l.Seq <= q.After {
		return false
	}
	return q.Text == "" || containsFold(l.Text, q.Text)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// find returns the newest q.Limit matching lines, oldest first, the seq
// of the newest line read, and the channel closed at the next line.
func (l *logRing) find(q LogQuery) ([]LogLine, int64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LogLine
	n := len(l.lines)
	for i := n - 1; i >= 0 && len(out) < q.Limit; i-- {
		line := &l.lines[(l.next+i)%n]
		if q.match(line) {
			out = append(out, *line)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return out, l.seq, l.changed
}

// follow sends each line matching q as it comes (q.After moving on) until
// ctx ends or emit fails.
func (l *logRing) follow(ctx context.Context, q LogQuery, emit func(LogLine) error) error {
	for {
		lines, seq, changed := l.find(q)
		for _, line := range lines {
			if err := emit(line); err != nil {
				return err
			}
		}
		q.After = seq
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// lineWriter turns an instance's output into log lines.
type lineWriter struct {
	logs     *logRing
	instance string
	mu       sync.Mutex
	partial  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.logs.add(SourceApp, w.instance, strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLineLen {
		w.logs.add(SourceApp, w.instance, string(w.partial))
		w.partial = w.partial[:0]
	}
	return len(p), nil
}
