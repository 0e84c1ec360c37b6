package deploy_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

var stepTime = regexp.MustCompile(`done in ([0-9.]+) s`)

// BenchmarkStaticDeployReact deploys the React template (npm install and
// vite build from the registry, in the build sandbox) and reports what
// the deploy adds to its build steps: the checkpoint, the checkout, the
// sandbox, copying the output out, compressing it, and the switch.
func BenchmarkStaticDeployReact(b *testing.B) {
	testserver.NeedSandbox(b)
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bench")
	var out struct{ Project testserver.Project }
	c.Post(b, "/api/projects", map[string]string{"name": "React", "template": "react-dashboard"}).WantStatus(b, 201).Decode(b, &out)
	p := out.Project
	var total, steps time.Duration
	for b.Loop() {
		start := time.Now()
		r, log := finish(b, c, p.ID, deploy(b, c, p.ID).ID)
		took := time.Since(start)
		if r.Status != "ready" {
			b.Fatalf("deploy: %+v\n%s", r, log)
		}
		var s float64
		for _, m := range stepTime.FindAllStringSubmatch(log, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			s += v
		}
		total += took
		steps += time.Duration(s * float64(time.Second))
	}
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/deploy")
	b.ReportMetric(steps.Seconds()/n, "s-build/deploy")
	b.ReportMetric((total-steps).Seconds()/n, "s-overhead/deploy")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRollback is a promote (POST .../promote) until the site serves
// the other release: the switch of traffic a rollback or its undo is.
func BenchmarkRollback(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bench")
	p := project(b, c, "Flip", nil)
	var ids []string
	for _, v := range []string{"a", "b"} {
		c.Put(b, "/api/projects/"+p.ID+"/files/index.html", v).WantStatus(b, 204)
		r, log := finish(b, c, p.ID, deploy(b, c, p.ID).ID)
		if r.Status != "ready" {
			b.Fatalf("%+v\n%s", r, log)
		}
		ids = append(ids, r.ID)
	}
	i := 0
	for b.Loop() {
		want := []string{"a", "b"}[i%2]
		c.Post(b, "/api/projects/"+p.ID+"/releases/"+ids[i%2]+"/promote", nil).WantStatus(b, 200)
		if _, body := visit(b, s, host(p), "/", nil); string(body) != want {
			b.Fatalf("serves %q after promoting %q", body, want)
		}
		i++
	}
}

// BenchmarkCancel is a cancel (POST .../cancel, which answers once the
// release has ended) of a build whose sandbox is running a step; beside
// it, the time from the deploy to that step's start.
func BenchmarkCancel(b *testing.B) {
	testserver.NeedSandbox(b)
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bench")
	p := project(b, c, "Stop", map[string]string{"ecode.toml": "run = \"true\"\n[deployment]\nbuild = \"sleep 30\"\n"})
	var cancelling, starting time.Duration
	for b.Loop() {
		start := time.Now()
		r := deploy(b, c, p.ID)
		await(b, s, c, p.ID, r.ID, "$ sleep 30")
		began := time.Now()
		c.Post(b, "/api/projects/"+p.ID+"/releases/"+r.ID+"/cancel", nil).WantStatus(b, 200)
		cancelling += time.Since(began)
		starting += began.Sub(start)
	}
	n := float64(b.N)
	b.ReportMetric(cancelling.Seconds()*1000/n, "ms/cancel")
	b.ReportMetric(starting.Seconds()*1000/n, "ms-to-step/deploy")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEdge is requests to an autoscale Node app through the edge, 32
// at a time over kept-alive connections: what the edge costs per request.
func BenchmarkEdge(b *testing.B) {
	testserver.NeedSandbox(b)
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bench")
	p := project(b, c, "Edge", map[string]string{
		"index.js":   `require("http").createServer((q, s) => s.end("hello\n")).listen(process.env.PORT)`,
		"ecode.toml": "run = \"node index.js\"\n\n[deployment]\ntarget = \"autoscale\"\nmaxInstances = 1\nconcurrency = 1000\n",
	})
	if r, log := finish(b, c, p.ID, deploy(b, c, p.ID).ID); r.Status != "ready" {
		b.Fatalf("%+v\n%s", r, log)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(16) // 32 requests at a time on 2 cores, as wrk -c32
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
			req.Host = host(p)
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
