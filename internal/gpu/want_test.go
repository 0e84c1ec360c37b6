package gpu

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"ecode/internal/errs"
)

func TestParseWant(t *testing.T) {
	for key, want := range map[string]Want{"any": {}, "whole": {Whole: true}, "mig-1g.10gb": {Profile: "1g.10gb"},
		"mig-1c.3g.40gb": {Profile: "1c.3g.40gb"}, "mig-1g.12gb+me": {Profile: "1g.12gb+me"}} {
		got, ok, err := ParseWant(key)
		if err != nil || !ok || got != want || got.Key() != key {
			t.Errorf("ParseWant(%q) = %+v, %v, %v; key %q", key, got, ok, err, got.Key())
		}
	}
	if _, ok, err := ParseWant(""); ok || err != nil {
		t.Errorf(`ParseWant("") = %v, %v: want none`, ok, err)
	}
	for _, bad := range []string{"all", "mig-", "mig-big", "Whole", "mig-1g.10gb;rm"} {
		if _, _, err := ParseWant(bad); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ParseWant(%q) = %v, want gpu_want_invalid", bad, err)
		}
	}
}

func TestOffer(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-40GB:mig=3g.20gb+1g.5gb+1g.5gb,2xH100-80GB")
	got := p.Offer()
	want := Offer{Simulated: true, Kinds: []Kind{
		{WantAny, "Any GPU"},
		{WantWhole, "A whole GPU (2× simulated H100-80GB (81920 MiB))"},
		{"mig-1g.5gb", "MIG slice 1g.5gb (5120 MiB)"},
		{"mig-3g.20gb", "MIG slice 3g.20gb (20480 MiB)"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("offer =\n%+v\nwant\n%+v", got, want)
	}
	if err := p.Possible(Want{Profile: "7g.40gb"}); !errs.Is(err, errs.KindInvalid) {
		t.Fatalf("Possible(7g.40gb) = %v", err)
	}
	if err := p.Possible(Want{Profile: "3g.20gb"}); err != nil {
		t.Fatalf("Possible(3g.20gb) = %v", err)
	}

	var none *Pool
	if o := none.Offer(); len(o.Kinds) != 0 || o.Reason == "" {
		t.Fatalf("no pool offers %+v", o)
	}
	if err := none.Possible(Want{}); !errs.Is(err, errs.KindUnavailable) {
		t.Fatalf("no pool: Possible = %v", err)
	}
}

// TestFollow: the wait message changes as the line moves, and only then.
func TestFollow(t *testing.T) {
	p, _ := simulatedPool(t, "1xA100-80GB")
	held, err := p.Acquire(context.Background(), "a", Want{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := queue(t, ctx, p, "b", Want{})
	c := queue(t, ctx, p, "c", Want{})
	told := make(chan string, 10)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		p.Follow(ctx, "c", func(pos Position) { told <- pos.String() })
	}()
	if got := <-told; got != "2nd in line for a GPU; 1 of 1 in use" {
		t.Fatalf("first message %q", got)
	}
	held.Release()
	if r := <-b; r.err != nil {
		t.Fatal(r.err)
	}
	if got := <-told; got != "1st in line for a GPU; 1 of 1 in use" {
		t.Fatalf("after the line moved: %q", got)
	}
	cancel()
	<-followed
	if r := <-c; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("c after cancel: %v", r.err)
	}
	if len(told) != 0 {
		t.Fatalf("told more: %q", <-told)
	}
}

func TestUsage(t *testing.T) {
	inv := Inventory{Devices: []Device{{UUID: "GPU-1", Name: "NVIDIA H200", MemoryMiB: 143771}}}
	var asked []string
	p := NewPool(inv, Options{Root: t.TempDir(), Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
		asked = append([]string{name}, args...)
		return []byte("1024, 143771, 37\n"), nil
	}})
	u := Unit{UUID: "GPU-1"}
	if got := p.Usage(context.Background(), u); got != (Usage{Measured: true, MemoryUsedMiB: 1024, MemoryTotalMiB: 143771, UtilizationPercent: 37}) {
		t.Fatalf("usage = %+v", got)
	}
	if asked[len(asked)-1] != "GPU-1" || asked[len(asked)-2] != "-i" {
		t.Fatalf("asked %q", asked)
	}
	p.run = func(context.Context, string, ...string) ([]byte, error) { return []byte("[N/A], 1, 2"), nil }
	if got := p.Usage(context.Background(), u); got.Measured || got.Reason == "" {
		t.Fatalf("N/A answer: %+v", got)
	}
	if got := p.Usage(context.Background(), Unit{UUID: "MIG-1", Profile: "1g.10gb"}); got.Measured || got.Reason == "" {
		t.Fatalf("MIG slice: %+v", got)
	}
	sim, _ := simulatedPool(t, "1xA100-80GB")
	if got := sim.Usage(context.Background(), Unit{UUID: "GPU-SIMULATED-0"}); got != (Usage{Reason: "simulated GPU: no readings"}) {
		t.Fatalf("simulated: %+v", got)
	}
}
