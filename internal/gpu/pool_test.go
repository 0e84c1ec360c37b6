package gpu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"ecode/internal/clocktest"
	"ecode/internal/errs"
)

func simulatedPool(t *testing.T, spec string) (*Pool, *clocktest.Clock) {
	t.Helper()
	inv, err := Simulated(spec)
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return NewPool(inv, Options{Now: clock.Now}), clock
}

// waitFor waits until cond holds, woken by each change of the pool.
func waitFor(t *testing.T, p *Pool, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		changed := p.Changed()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

type result struct {
	lease *Lease
	err   error
}

// queue starts owner's Acquire and returns once it waits in line.
func queue(t *testing.T, ctx context.Context, p *Pool, owner string, want Want) <-chan result {
	t.Helper()
	ch := make(chan result, 1)
	go func() {
		l, err := p.Acquire(ctx, owner, want)
		ch <- result{l, err}
	}()
	waitFor(t, p, owner+" in line", func() bool { _, ok := p.Queue(owner); return ok })
	return ch
}

func acquire(t *testing.T, p *Pool, owner string, want Want) *Lease {
	t.Helper()
	l, err := p.Acquire(t.Context(), owner, want)
	if err != nil {
		t.Fatalf("%s: %v", owner, err)
	}
	return l
}

func served(t *testing.T, ch <-chan result, owner string) *Lease {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil || r.lease.Owner != owner {
			t.Fatalf("%s got %+v, %v", owner, r.lease, r.err)
		}
		return r.lease
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was never served", owner)
		return nil
	}
}

func holders(p *Pool) map[string]string {
	m := map[string]string{}
	for _, u := range p.Snapshot().Units {
		m[u.UUID] = u.Owner
	}
	return m
}

func TestLeaseHoldsAndMeters(t *testing.T) {
	p, clock := simulatedPool(t, "1xA100-80GB")
	l := acquire(t, p, "alice", Want{})
	if l.Unit.UUID != "GPU-SIMULATED-0" || l.Owner != "alice" || len(l.Unit.Nodes) != 0 {
		t.Errorf("lease = %+v", l)
	}
	if want := []string{"CUDA_VISIBLE_DEVICES=GPU-SIMULATED-0", "NVIDIA_VISIBLE_DEVICES=GPU-SIMULATED-0"}; !reflect.DeepEqual(l.Env, want) {
		t.Errorf("env = %q", l.Env)
	}
	clock.Add(90 * time.Second)
	if got := l.Held(); got != 90*time.Second {
		t.Errorf("held %v, want 90s", got)
	}
	l.Release()
	clock.Add(time.Hour)
	if got := l.Held(); got != 90*time.Second {
		t.Errorf("after release held %v, want it stopped at 90s", got)
	}
	if h := holders(p)["GPU-SIMULATED-0"]; h != "" {
		t.Errorf("released unit held by %q", h)
	}
}

func TestEachUnitHasOneOwner(t *testing.T) {
	p, _ := simulatedPool(t, "2xA100-80GB")
	a := acquire(t, p, "alice", Want{})
	b := acquire(t, p, "bob", Want{})
	if a.Unit.UUID == b.Unit.UUID {
		t.Fatalf("alice and bob both hold %s", a.Unit.UUID)
	}
	carol := queue(t, t.Context(), p, "carol", Want{})
	pos, _ := p.Queue("carol")
	if got := pos.String(); got != "1st in line for a GPU; 2 of 2 in use" {
		t.Errorf("carol's message = %q", got)
	}
	b.Release()
	if l := served(t, carol, "carol"); l.Unit.UUID != b.Unit.UUID {
		t.Errorf("carol got %s, want bob's %s", l.Unit.UUID, b.Unit.UUID)
	}
	if h := holders(p); h[a.Unit.UUID] != "alice" || h[b.Unit.UUID] != "carol" {
		t.Errorf("holders = %v", h)
	}
}

func TestQueueIsFirstComeFirstServed(t *testing.T) {
	p, clock := simulatedPool(t, "1xA100-80GB")
	a := acquire(t, p, "a", Want{})
	b := queue(t, t.Context(), p, "b", Want{})
	clock.Add(time.Second)
	c := queue(t, t.Context(), p, "c", Want{})
	d := queue(t, t.Context(), p, "d", Want{MinMiB: 1024})
	for place, owner := range []string{"b", "c", "d"} {
		pos, ok := p.Queue(owner)
		if !ok || pos.Place != place+1 || pos.InUse != 1 || pos.Units != 1 {
			t.Errorf("%s: %+v, %v", owner, pos, ok)
		}
	}
	if pos, _ := p.Queue("d"); pos.String() != "3rd in line for a GPU with at least 1024 MiB; 1 of 1 in use" {
		t.Errorf("d's message = %q", pos.String())
	}
	snap := p.Snapshot()
	if len(snap.Queue) != 3 || snap.Queue[0].Owner != "b" || snap.Queue[1].Since.Sub(snap.Queue[0].Since) != time.Second {
		t.Errorf("queue = %+v", snap.Queue)
	}

	a.Release()
	lb := served(t, b, "b")
	if pos, _ := p.Queue("c"); pos.Place != 1 {
		t.Errorf("c is %d in line after b was served, want 1st", pos.Place)
	}
	lb.Release()
	served(t, c, "c").Release()
	served(t, d, "d").Release()
	if _, ok := p.Queue("d"); ok {
		t.Error("d still in line after being served")
	}
}

func TestCancelLeavesTheLine(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB")
	a := acquire(t, p, "a", Want{})
	ctx, cancel := context.WithCancel(t.Context())
	b := queue(t, ctx, p, "b", Want{})
	c := queue(t, t.Context(), p, "c", Want{})
	cancel()
	r := <-b
	if r.lease != nil || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("b got %+v, %v; want context.Canceled", r.lease, r.err)
	}
	if _, ok := p.Queue("b"); ok {
		t.Error("b is still in line")
	}
	if pos, _ := p.Queue("c"); pos.Place != 1 {
		t.Errorf("c is %d in line, want 1st", pos.Place)
	}
	a.Release()
	served(t, c, "c")
}

func TestAcquireWithEndedContext(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Acquire(ctx, "a", Want{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if h := holders(p)["GPU-SIMULATED-0"]; h != "" {
		t.Errorf("unit held by %q", h)
	}
}

func TestReleaseTwiceFreesOnce(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB")
	a := acquire(t, p, "a", Want{})
	b := queue(t, t.Context(), p, "b", Want{})
	c := queue(t, t.Context(), p, "c", Want{})
	a.Release()
	lb := served(t, b, "b")
	a.Release() // must not take the unit from b and give it to c
	if h := holders(p)[lb.Unit.UUID]; h != "b" {
		t.Errorf("unit held by %q after a second release, want b", h)
	}
	if pos, ok := p.Queue("c"); !ok || pos.Place != 1 {
		t.Errorf("c: %+v, %v; want still 1st in line", pos, ok)
	}
	lb.Release()
	served(t, c, "c")
}

func TestImpossibleWantsFailAtOnce(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB,1xA100-40GB:mig=3g.20gb+1g.10gb")
	acquire(t, p, "hog", Want{Whole: true}) // busy units still count as possible
	for _, tc := range []struct {
		want Want
		kind errs.Kind
		msg  string
	}{
		{Want{MinMiB: 100 * 1024}, errs.KindInvalid, "no GPU here can serve a GPU with at least 102400 MiB: there are 1× simulated A100-80GB (81920 MiB), 1× MIG 3g.20gb (20480 MiB), 1× MIG 1g.10gb (10240 MiB)"},
		{Want{Profile: "2g.20gb"}, errs.KindInvalid, "a MIG 2g.20gb slice"},
		{Want{Whole: true, MinMiB: 90 * 1024}, errs.KindInvalid, "a whole GPU with at least"},
		{Want{Whole: true, Profile: "1g.10gb"}, errs.KindInvalid, "not both"},
		{Want{MinMiB: -1}, errs.KindInvalid, "negative"},
	} {
		_, err := p.Acquire(t.Context(), "x", tc.want)
		if !errs.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Acquire(%+v) = %v\nwant kind %v with %q", tc.want, err, tc.kind, tc.msg)
		}
	}
	if _, err := p.Acquire(t.Context(), "", Want{}); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("no owner: %v", err)
	}
	if len(p.Snapshot().Queue) != 0 {
		t.Error("an impossible want was queued")
	}
}

func TestNoGPUsSaysWhy(t *testing.T) {
	p := NewPool(Inventory{Reason: reasonNoDriver}, Options{})
	_, err := p.Acquire(t.Context(), "a", Want{})
	if !errs.Is(err, errs.KindUnavailable) || !strings.Contains(err.Error(), reasonNoDriver) {
		t.Errorf("err = %v", err)
	}
	if snap := p.Snapshot(); snap.Reason != reasonNoDriver || len(snap.Units) != 0 {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestMIGSlicesAndBestFit(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB,1xA100-40GB:mig=3g.20gb+1g.10gb+1g.10gb")
	if n := len(p.Snapshot().Units); n != 4 {
		t.Fatalf("%d units, want the whole A100-80GB and 3 slices (never the MIG GPU whole)", n)
	}
	for _, tc := range []struct {
		want Want
		uuid string
	}{
		{Want{}, "MIG-SIMULATED-1-1"},                   // the smallest that fits
		{Want{Whole: true}, "GPU-SIMULATED-0"},          // never a slice
		{Want{MinMiB: 15000}, "MIG-SIMULATED-1-0"},      // 3g.20gb before the 80 GB GPU
		{Want{Profile: "1g.10gb"}, "MIG-SIMULATED-1-2"}, // the other 1g.10gb
	} {
		l := acquire(t, p, "x", tc.want)
		if l.Unit.UUID != tc.uuid {
			t.Errorf("%+v got %s, want %s", tc.want, l.Unit.UUID, tc.uuid)
		}
	}
}

func TestLaterWaiterGoesAheadOnlyWithWhatTheHeadCannotUse(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB,1xA100-40GB:mig=1g.10gb")
	whole := acquire(t, p, "a", Want{Whole: true})
	slice := acquire(t, p, "s", Want{Profile: "1g.10gb"})
	b := queue(t, t.Context(), p, "b", Want{Whole: true})
	c := queue(t, t.Context(), p, "c", Want{Profile: "1g.10gb"})
	slice.Release()
	served(t, c, "c") // b, ahead, cannot use a slice
	if pos, ok := p.Queue("b"); !ok || pos.Place != 1 {
		t.Errorf("b: %+v, %v", pos, ok)
	}
	whole.Release()
	served(t, b, "b")
}

func TestFreedUnitGoesToTheEarliestWaiterItFits(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-40GB:mig=1g.10gb")
	s := acquire(t, p, "s", Want{})
	b := queue(t, t.Context(), p, "b", Want{})
	c := queue(t, t.Context(), p, "c", Want{Profile: "1g.10gb"})
	s.Release()
	lb := served(t, b, "b")
	if _, ok := p.Queue("c"); !ok {
		t.Error("c was served before b")
	}
	lb.Release()
	served(t, c, "c")
}

func TestRealUnitsCarryNodesOrProblems(t *testing.T) {
	inv, err := Discover(t.Context(), fakeRunner(t, recorded(t, "a100-mig-mixed")))
	if err != nil {
		t.Fatal(err)
	}
	// GPU 1's first slice is GPU instance 3; its capability nodes exist.
	// GPU 1's other slices and GPUs 2-3 have none made yet.
	giCap := fmt.Sprintf("/dev/nvidia-caps/nvidia-cap%d", capMinor(1, 3, -1))
	ciCap := fmt.Sprintf("/dev/nvidia-caps/nvidia-cap%d", capMinor(1, 3, 0))
	root := fakeHost(t, "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", giCap, ciCap)
	p := NewPool(inv, Options{Root: root})

	snap := p.Snapshot()
	if len(snap.Units) != 10 || snap.Simulated {
		t.Fatalf("%d units (simulated %v), want 1 whole GPU and 9 slices", len(snap.Units), snap.Simulated)
	}
	problems := 0
	for _, u := range snap.Units {
		if u.Problem != "" {
			problems++
		}
	}
	if problems != 8 {
		t.Errorf("%d units with problems, want the 8 slices without capability nodes", problems)
	}

	whole := acquire(t, p, "a", Want{Whole: true})
	if want := []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"}; !reflect.DeepEqual(whole.Unit.Nodes, want) {
		t.Errorf("whole GPU nodes = %q", whole.Unit.Nodes)
	}
	slice := acquire(t, p, "b", Want{Profile: "2g.20gb"})
	if slice.Unit.UUID != "MIG-163816c9-1176-5817-9217-644f2bc0b174" || slice.Unit.MemoryMiB != 19968 || slice.Unit.BusID != "00000000:0F:00.0" {
		t.Errorf("slice = %+v", slice.Unit)
	}
	if want := []string{"/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", giCap, ciCap}; !reflect.DeepEqual(slice.Unit.Nodes, want) {
		t.Errorf("slice nodes = %q\nwant %q", slice.Unit.Nodes, want)
	}
	if want := "CUDA_VISIBLE_DEVICES=" + slice.Unit.UUID; slice.Env[0] != want {
		t.Errorf("slice env = %q", slice.Env)
	}
	// The slices with problems are never handed out: the next one waits.
	ctx, cancel := context.WithCancel(t.Context())
	c := queue(t, ctx, p, "c", Want{Profile: "2g.20gb"})
	if pos, _ := p.Queue("c"); pos.Units != 1 {
		t.Errorf("c waits for %d units, want the 1 usable", pos.Units)
	}
	cancel()
	if r := <-c; !errors.Is(r.err, context.Canceled) {
		t.Errorf("c: %v", r.err)
	}

	missing := NewPool(inv, Options{Root: t.TempDir()})
	_, err = missing.Acquire(t.Context(), "a", Want{})
	if !errs.Is(err, errs.KindUnavailable) || !strings.Contains(err.Error(), "every GPU here has a problem") {
		t.Errorf("a host without device nodes: %v", err)
	}
	if u := missing.Snapshot().Units[0]; u.Problem != "/dev/nvidia0 is missing" {
		t.Errorf("problem = %q", u.Problem)
	}
}

// Units on cluster nodes have their device nodes there: a pool of them on a
// host without any leases them all, with nothing to bind.
func TestRemoteUnitsHaveNoNodesHere(t *testing.T) {
	inv := Inventory{Remote: true, Devices: []Device{
		{UUID: "kube:n1:gpu:0", Name: "NVIDIA-H100-80GB-HBM3 on n1", MemoryMiB: 81559},
		{Index: 1, Minor: 1, UUID: "kube:n2:mig", Name: "NVIDIA-A100-SXM4-80GB on n2", MIG: true, Slices: []Slice{
			{UUID: "kube:n2:mig-1g.10gb:0", Name: "1g.10gb", GPUIndex: 1, GPUMinor: 1, MemoryMiB: 10240, GI: -1, CI: -1},
		}},
	}}
	p := NewPool(inv, Options{Root: t.TempDir()})
	for _, u := range p.Snapshot().Units {
		if u.Problem != "" || len(u.Nodes) != 0 {
			t.Errorf("%s: problem %q, nodes %q; want neither", u.UUID, u.Problem, u.Nodes)
		}
	}
	whole := acquire(t, p, "a", Want{Whole: true})
	slice := acquire(t, p, "b", Want{Profile: "1g.10gb"})
	if whole.Unit.UUID != "kube:n1:gpu:0" || slice.Unit.UUID != "kube:n2:mig-1g.10gb:0" {
		t.Errorf("leased %s and %s", whole.Unit.UUID, slice.Unit.UUID)
	}

	// The same units taken for this host's lack their nodes.
	inv.Remote = false
	for _, u := range NewPool(inv, Options{Root: t.TempDir()}).Snapshot().Units {
		if u.Problem == "" {
			t.Errorf("%s is usable on a host without its nodes", u.UUID)
		}
	}
}

func TestSnapshotJSON(t *testing.T) {
	p, _ := simulatedPool(t, "2xA100-80GB")
	acquire(t, p, "alice", Want{})
	b, err := json.Marshal(p.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"simulated":true`,
		`{"uuid":"GPU-SIMULATED-0","name":"simulated A100-80GB","gpuIndex":0,"memoryMiB":81920,"owner":"alice","since":"2026-01-02T03:04:05Z"}`,
		`{"uuid":"GPU-SIMULATED-1","name":"simulated A100-80GB","gpuIndex":1,"memoryMiB":81920}`,
		`"queue":[]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("snapshot %s\nlacks %s", got, want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestConcurrentUse has many owners take, hold and give back units, some
// giving up while they wait; no unit may ever have two holders, and every
// wait must end. Run with -race.
func TestConcurrentUse(t *testing.T) {
	p, _ := simulatedPool(t, "2xA100-80GB,1xA100-40GB:mig=1g.10gb+1g.10gb+2g.20gb")
	var (
		mu     sync.Mutex
		holder = map[string]string{}
		wg     sync.WaitGroup
	)
	wants := []Want{{}, {Whole: true}, {Profile: "1g.10gb"}, {MinMiB: 15000}}
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("owner-%d", g)
			for i := range 20 {
				ctx, cancel := context.WithCancel(context.Background())
				if (g+i)%7 == 0 {
					cancel() // some give up before or while they wait
				}
				l, err := p.Acquire(ctx, owner, wants[(g+i)%len(wants)])
				cancel()
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("%s: %v", owner, err)
					}
					continue
				}
				mu.Lock()
				if h := holder[l.Unit.UUID]; h != "" {
					t.Errorf("%s given %s, held by %s", owner, l.Unit.UUID, h)
				}
				holder[l.Unit.UUID] = owner
				mu.Unlock()
				_ = p.Snapshot()
				_, _ = p.Queue(owner)
				mu.Lock()
				delete(holder, l.Unit.UUID)
				mu.Unlock()
				l.Release()
				l.Release()
			}
		}()
	}
	wg.Wait()
	snap := p.Snapshot()
	if len(snap.Queue) != 0 {
		t.Errorf("line left over: %+v", snap.Queue)
	}
	for _, u := range snap.Units {
		if u.Owner != "" {
			t.Errorf("%s still held by %s", u.UUID, u.Owner)
		}
	}
}
