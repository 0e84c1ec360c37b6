package billing

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrices(t *testing.T) {
	c := DefaultCatalog()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		u    Usage
		want int64
	}{
		{"a CPU-second", Usage{Meter: MeterCPU, Quantity: 1_000_000}, 2400},
		{"a CPU-microsecond rounds up", Usage{Meter: MeterCPU, Quantity: 1}, 1},
		{"a GiB-second", Usage{Meter: MeterMemory, Quantity: 1 << 30}, 250},
		{"default model", Usage{Meter: MeterAIIn, Attr: "gpt-x", Quantity: 10}, 3000},
		{"model by prefix", Usage{Meter: MeterAIOut, Attr: "claude-haiku-4-5", Quantity: 10}, 5000},
		{"longest prefix", Usage{Meter: MeterAIIn, Attr: "claude-opus-4", Quantity: 2}, 3000},
		{"a GB-month of files", Usage{Meter: MeterFiles, Quantity: 1_000_000_000 * 30 * 24 * 3600}, 10_000_000},
		{"a GB-month of backups", Usage{Meter: MeterBackups, Quantity: 1_000_000_000 * 30 * 24 * 3600}, 5_000_000},
		{"a second of a small instance", Usage{Meter: MeterInstance, Attr: "0.5cpu-512mib", Quantity: 1000}, 1200 + 125},
		{"a second of a big instance", Usage{Meter: MeterInstance, Attr: "2cpu-4096mib", Quantity: 1000}, 4800 + 1000},
		{"a GB out", Usage{Meter: MeterEgress, Quantity: 1_000_000_000}, 10_000_000},
		{"a GPU-second", Usage{Meter: MeterGPU, Quantity: 1000}, 80_000},
		{"a GPU-second of a 3g MIG slice", Usage{Meter: MeterGPU, Attr: "3g.40gb", Quantity: 7000}, 3 * 80_000},
		{"a compute instance of a MIG slice", Usage{Meter: MeterGPU, Attr: "1c.3g.40gb", Quantity: 7000}, 80_000},
		{"an unknown profile as a whole GPU", Usage{Meter: MeterGPU, Attr: "x", Quantity: 1000}, 80_000},
		{"nothing", Usage{Meter: MeterEgress, Quantity: 0}, 0},
		// The product needs more than 64 bits; the result does not.
		{"the most CPU", Usage{Meter: MeterCPU, Quantity: math.MaxInt64}, 22_136_092_888_451_462},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Price(tc.u)
			if err != nil || got != tc.want {
				t.Fatalf("Price(%+v) = %d, %v; want %d", tc.u, got, err, tc.want)
			}
		})
	}
	if _, err := c.Price(Usage{Meter: MeterInstance, Attr: "big", Quantity: 1}); err == nil {
		t.Fatal("a malformed size was priced")
	}
	c.Prices[MeterAIIn] = MeterPrice{Micro: math.MaxInt64}
	if _, err := c.Price(Usage{Meter: MeterAIIn, Quantity: math.MaxInt64}); err == nil {
		t.Fatal("an overflowing price was answered")
	}
}

func TestLoadCatalog(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "plans.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prices := `"prices":{"sandbox.cpu":{"unit":"CPU-second","micro":1},"sandbox.memory":{"micro":1},"ai.input":{"micro":1},
		"ai.output":{"micro":1},"storage.files":{"micro":1},"storage.database":{"micro":1},"storage.objects":{"micro":1},
		"storage.backups":{"micro":1},"deploy.instance":{"cpuMicro":1,"memMicro":1},"egress":{"micro":1}%s}`
	good := `{"plans":[{"id":"hobby","name":"Hobby","monthlyCredits":100}],"defaultPlan":"hobby","defaultTeamPlan":"hobby",` +
		strings.Replace(prices, "%s", "", 1) + `}`
	c, err := LoadCatalog(write(good))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Plan("hobby"); !ok || p.MonthlyCredits != 100 {
		t.Fatalf("plan = %+v", p)
	}
	// What a file leaves out keeps the built-in price.
	c, err = LoadCatalog(write(strings.Replace(good, `,"egress":{"micro":1}`, ``, 1)))
	if err != nil || c.Prices[MeterEgress].Micro != DefaultCatalog().Prices[MeterEgress].Micro {
		t.Fatalf("egress without a price in the file: %+v, %v", c.Prices[MeterEgress], err)
	}
	for _, tc := range []struct{ body, want string }{
		{strings.Replace(good, `"egress":{"micro":1}`, `"egress":{"micro":1},"gpu":{"micro":1}`, 1), `unknown meter "gpu"`},
		{strings.Replace(good, `"egress":{"micro":1}`, `"egress":{"micro":-1}`, 1), `negative price`},
		{strings.Replace(good, `"monthlyCredits":100}`, `"monthlyCredits":100},{"id":"hobby"}`, 1), `duplicate plan id "hobby"`},
		{strings.Replace(good, `"defaultPlan":"hobby"`, `"defaultPlan":"pro"`, 1), `defaultPlan "pro"`},
		{`{"plans":[`, `plans file`},
	} {
		if _, err := LoadCatalog(write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadCatalog = %v, want an error with %q", err, tc.want)
		}
	}
}

func TestParseCredits(t *testing.T) {
	for in, want := range map[string]int64{"1": 1_000_000, "0.5": 500_000, "12.000001": 12_000_001, "0.000001": 1} {
		if got, err := ParseCredits(in); err != nil || got != want {
			t.Errorf("ParseCredits(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.0000001", "1e3", "abc", "1.-5", "+3", "9999999999999"} {
		if _, err := ParseCredits(in); err == nil {
			t.Errorf("ParseCredits(%q) was accepted", in)
		}
	}
}
