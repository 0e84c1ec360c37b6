package config

import (
	"flag"
	"strings"
	"testing"
)

func TestSandboxLimits(t *testing.T) {
	load := func(env map[string]string, args ...string) (Config, error) {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Bind(fs, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, c.Validate()
	}
	c, err := load(map[string]string{"ECODE_SANDBOX_MAX_MEMORY": "8G", "ECODE_SANDBOX_CPUS": "1.5"}, "-sandbox-memory", "512M", "-sandbox-max-pids", "2048")
	if err != nil {
		t.Fatal(err)
	}
	want := SandboxLimits{Memory: 512 << 20, MaxMemory: 8 << 30, CPUs: 1.5, MaxCPUs: 2, Pids: 256, MaxPids: 2048, MaxDisk: 4 << 30}
	if c.Sandbox != want {
		t.Fatalf("got %+v, want %+v", c.Sandbox, want)
	}
	for _, bad := range [][]string{
		{"-sandbox-memory", "8G"},            // over its ceiling
		{"-sandbox-cpus", "0"},               // not positive
		{"-max-project-bytes", "8589934592"}, // the default disk over ECODE_SANDBOX_MAX_DISK
		{"-sandbox-max-memory", "lots"},
	} {
		if _, err := load(nil, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1073741824": 1 << 30, "512M": 512 << 20, "2G": 2 << 30, "2GiB": 2 << 30, "64k": 64 << 10, "1T": 1 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1", "1.5G", "99999999999T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

// TestGoCachePrewarm: on unless the environment or the flag turns it off.
func TestGoCachePrewarm(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want bool
	}{
		{"", nil, true},
		{"false", nil, false},
		{"0", []string{"-go-cache-prewarm=true"}, true},
		{"", []string{"-go-cache-prewarm=false"}, false},
	} {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Bind(fs, func(k string) string {
			if k == "ECODE_GO_CACHE_PREWARM" {
				return tc.env
			}
			return ""
		})
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if c.GoCachePrewarm != tc.want {
			t.Errorf("env %q, args %v: prewarm %v, want %v", tc.env, tc.args, c.GoCachePrewarm, tc.want)
		}
	}
}

// A server of a cluster needs what the others share, each named plainly.
func TestCluster(t *testing.T) {
	env := map[string]string{
		"ECODE_PEER_URL": "http://10.0.0.5:8080", "ECODE_DATABASE_URL": "postgres://db/ecode", "ECODE_NATS_URL": "nats://10.0.0.2:4222",
		"ECODE_PROJECT_POSTGRES_URL": "postgres://db/postgres", "ECODE_SERVER_ID": "web-1",
	}
	load := func(drop, key, value string) error {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Bind(fs, func(k string) string {
			switch k {
			case drop:
				return ""
			case key:
				return value
			}
			return env[k]
		})
		if err := fs.Parse(nil); err != nil {
			return err
		}
		return c.Validate()
	}
	if err := load("", "", ""); err != nil {
		t.Fatalf("a whole cluster config: %v", err)
	}
	for _, tc := range []struct{ drop, key, value, want string }{
		{drop: "ECODE_DATABASE_URL", want: "shared PostgreSQL"},
		{drop: "ECODE_NATS_URL", want: "NATS"},
		{drop: "ECODE_PROJECT_POSTGRES_URL", want: "projects' databases"},
		{key: "ECODE_SERVER_ID", value: "web/1", want: "server id"},
		{key: "ECODE_CLUSTER_LEASE", value: "100ms", want: "lease"},
	} {
		if err := load(tc.drop, tc.key, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("without %s / %s=%s: %v, want an error about %s", tc.drop, tc.key, tc.value, err, tc.want)
		}
	}
}

func TestGPUSettings(t *testing.T) {
	load := func(env map[string]string) (Config, error) {
		c := Default()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.Bind(fs, func(k string) string { return env[k] })
		if err := fs.Parse(nil); err != nil {
			return c, err
		}
		return c, c.Validate()
	}
	if c, err := load(nil); err != nil || c.GPUs != "auto" || c.GPUSimulate != "" {
		t.Fatalf("defaults: %+v, %v", c.GPUs, err)
	}
	if c, err := load(map[string]string{"ECODE_GPU_SIMULATE": "2xA100-80GB", "ECODE_GPUS": "off"}); err != nil || c.GPUSimulate != "2xA100-80GB" || c.GPUs != "off" {
		t.Fatalf("set: %+v %+v, %v", c.GPUs, c.GPUSimulate, err)
	}
	for env, want := range map[string]string{"ECODE_GPUS": "want auto or off", "ECODE_GPU_SIMULATE": "ECODE_GPU_SIMULATE: simulated GPUs"} {
		if _, err := load(map[string]string{env: "lots"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=lots: %v, want an error about %s", env, err, want)
		}
	}
}
