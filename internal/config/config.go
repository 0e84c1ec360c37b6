// Package config is the one place settings come from: flags on the command
// line, each backed by an ECODE_* environment variable. The defaults run the
// platform on a fresh machine with nothing else installed.
package config

import (
	"flag"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"ecode/internal/gpu"
)

// Config holds every setting of the platform.
type Config struct {
	Addr              string        // ECODE_ADDR
	DataDir           string        // ECODE_DATA_DIR
	DatabaseURL       string        // ECODE_DATABASE_URL; empty means SQLite in DataDir
	PublicURL         string        // ECODE_PUBLIC_URL
	PasskeyOrigin     string        // ECODE_PASSKEY_ORIGIN: where browsers use passkeys; empty means PublicURL's, localhost for a loopback IP
	LogFormat         string        // ECODE_LOG_FORMAT: text or json
	LogLevel          string        // ECODE_LOG_LEVEL: debug, info, warn, error
	MaxFileBytes      int64         // ECODE_MAX_FILE_BYTES
	MaxProjectBytes   int64         // ECODE_MAX_PROJECT_BYTES
	MaxCacheBytes     int64         // ECODE_MAX_CACHE_BYTES: largest a project's ~/.cache may grow
	GoCachePrewarm    bool          // ECODE_GO_CACHE_PREWARM: build the shared Go cache at start, before any Go project asks
	Sandbox           SandboxLimits // ECODE_SANDBOX_*: each project's resources and how far its owner may raise them
	AllowSignup       bool          // ECODE_ALLOW_SIGNUP
	PreviewDomain     string        // ECODE_PREVIEW_DOMAIN
	DeployDomain      string        // ECODE_DEPLOY_DOMAIN: deployments are served at {slug}--{owner}.DOMAIN
	SandboxIdle       time.Duration // ECODE_SANDBOX_IDLE
	ShellIdle         time.Duration // ECODE_SHELL_IDLE: close a shell nobody has watched for this long
	DeployIdle        time.Duration // ECODE_DEPLOY_IDLE: an autoscale instance idle this long stops (to zero)
	DeployDriver      string        // ECODE_DEPLOY_DRIVER: local (sandboxes), docker (containers of release images) or kube (Deployments, Services, Jobs)
	DockerHost        string        // ECODE_DOCKER_HOST: the Docker Engine API the docker deploy driver uses
	Runtime           string        // ECODE_RUNTIME: bwrap (sandboxes on this machine) or kube (sandbox pods)
	Kubeconfig        string        // ECODE_KUBECONFIG: the cluster of the kube runtime; empty: the server's own pod's
	KubeNamespace     string        // ECODE_KUBE_NAMESPACE
	KubeRuntimeClass  string        // ECODE_KUBE_RUNTIME_CLASS: the RuntimeClass of sandbox pods (gVisor, Kata)
	KubeDataClaim     string        // ECODE_KUBE_DATA_CLAIM: the ReadWriteMany claim holding the data dir, which sandbox pods mount from
	KubeNodePool      string        // ECODE_KUBE_NODE_POOL: LABEL=VALUE of the nodes kept for sandboxes and apps
	KubeNodeLost      time.Duration // ECODE_KUBE_NODE_LOST: how long pods wait for a node that stopped answering
	SandboxImage      string        // ECODE_SANDBOX_IMAGE: the image of sandbox pods; empty: made here and pushed to ECODE_IMAGE_REGISTRY
	ServerID          string        // ECODE_SERVER_ID: this server among those sharing a database and cluster
	PeerURL           string        // ECODE_PEER_URL: how the other servers reach this one; set, the server joins a cluster
	NATSURL           string        // ECODE_NATS_URL: the NATS (JetStream) that carries events between the servers of a cluster
	NATSStream        string        // ECODE_NATS_STREAM: the JetStream stream of the cluster's events
	ClusterLease      time.Duration // ECODE_CLUSTER_LEASE: a server unseen this long is dead; its projects move
	ImageRegistry     string        // ECODE_IMAGE_REGISTRY: where exported manifests say releases' images are
	ProjectPostgres   string        // ECODE_PROJECT_POSTGRES_URL: an external server for projects' databases; empty: the platform's own cluster
	DatabaseQuota     int64         // ECODE_DATABASE_QUOTA: bytes a project database may hold before it turns read-only
	ObjectsURL        string        // ECODE_OBJECTS_URL: the blob bucket (gocloud.dev URL) of object storage's bytes; empty: <data>/objects
	StorageQuota      int64         // ECODE_STORAGE_QUOTA: bytes of objects a project environment may hold
	AutoCheckpoint    time.Duration // ECODE_AUTO_CHECKPOINT: checkpoint a project once its files go this long unchanged; 0 never
	AutoCheckpointGap time.Duration // ECODE_AUTO_CHECKPOINT_GAP: least time between two automatic checkpoints of a project
	DiskCheck         time.Duration // ECODE_DISK_CHECK
	ReadTimeout       time.Duration // ECODE_READ_TIMEOUT: for a request's headers, and for each pause in its body
	GitImportRoots    string        // ECODE_GIT_IMPORT_ROOTS: comma-separated host folders file:// imports may use
	EgressPrivate     string        // ECODE_EGRESS_ALLOW_PRIVATE: comma-separated CIDRs of private networks sandboxes may reach
	TrustedProxies    string        // ECODE_TRUSTED_PROXIES: comma-separated CIDRs whose X-Forwarded-For is believed
	MasterKey         string        // ECODE_MASTER_KEY: base64 of 32 bytes; empty means master.key in the data dir
	PreviousKeys      string        // ECODE_MASTER_KEY_PREVIOUS: comma-separated earlier master keys, still opened while values are resealed
	AnthropicKey      string        // ECODE_ANTHROPIC_API_KEY, else ANTHROPIC_API_KEY
	AnthropicURL      string        // ECODE_ANTHROPIC_BASE_URL: any Messages-API-compatible endpoint
	OpenAIURL         string        // ECODE_OPENAI_BASE_URL: an OpenAI-compatible Chat Completions API instead
	OpenAIKey         string        // ECODE_OPENAI_API_KEY
	AIModel           string        // ECODE_AI_MODEL
	OAuth             OAuthSettings // ECODE_OAUTH_<PROVIDER>_CLIENT_ID, _CLIENT_SECRET, _BASE_URL; ECODE_OAUTH_AZUREAD_TENANT
	MinSchedule       time.Duration // ECODE_MIN_SCHEDULE_INTERVAL: the shortest time a scheduled deployment may leave between two runs
	WebhookPrivate    string        // ECODE_WEBHOOK_ALLOW_PRIVATE: comma-separated CIDRs of private networks failure webhooks may be sent to
	TLSAddr           string        // ECODE_TLS_ADDR: where the HTTPS listener for custom domains listens; empty: none
	ACMECA            string        // ECODE_ACME_CA: the ACME directory certificates for custom domains come from
	ACMEEmail         string        // ECODE_ACME_EMAIL: the ACME account's contact
	ACMECARoot        string        // ECODE_ACME_CA_ROOT: a PEM file of roots to trust for the ACME server's own HTTPS (a test CA such as Pebble)
	SMTPURL           string        // ECODE_SMTP_URL: smtp://user:pass@host:port (STARTTLS when offered) or smtps://; empty: no email
	SMTPFrom          string        // ECODE_SMTP_FROM: the From address of the platform's email
	AlertInterval     time.Duration // ECODE_ALERT_INTERVAL: how often alert rules are evaluated
	OTLPEndpoint      string        // ECODE_OTLP_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT: where traces go over OTLP/HTTP; empty: none
	MonitorRate       float64       // ECODE_MONITOR_EVENTS_PER_SECOND: monitoring events one client may send per second to one project
	Billing           bool          // ECODE_BILLING: enforce credits (out of credits stops new work); usage is metered either way
	PlansFile         string        // ECODE_PLANS_FILE: plans, prices and top-ups as JSON; empty: the built-in Free, Pro and Team
	BillingGrace      time.Duration // ECODE_BILLING_GRACE: how long a deployment keeps serving after its payer runs out of credits
	MeterInterval     time.Duration // ECODE_METER_INTERVAL: how often running sandboxes' and instances' CPU and memory are sampled
	RatingInterval    time.Duration // ECODE_RATING_INTERVAL: how often metered usage is rated into the ledger
	StripeKey         string        // ECODE_STRIPE_SECRET_KEY: Stripe's secret API key; empty: credits only by administrators
	StripeWebhookKey  string        // ECODE_STRIPE_WEBHOOK_SECRET: the signing secret of the Stripe webhook endpoint
	StripeURL         string        // ECODE_STRIPE_API_URL: Stripe's API base (a stripe-mock in tests); empty: api.stripe.com
	GradingWorkers    int64         // ECODE_GRADING_WORKERS: submissions graded at once
	GPUs              string        // ECODE_GPUS: auto (find NVIDIA GPUs with nvidia-smi) or off
	GPUSimulate       string        // ECODE_GPU_SIMULATE: a simulated inventory such as 2xA100-80GB,1xA100-40GB:mig=3g.20gb+3g.20gb, instead of the host's
}

// SandboxLimits are the administrator's: what a project's sandbox gets
// unless its owner says otherwise, and the most an owner may give it. A
// project's disk defaults to MaxProjectBytes.
type SandboxLimits struct {
	Memory, MaxMemory int64   // ECODE_SANDBOX_MEMORY, ECODE_SANDBOX_MAX_MEMORY: bytes
	CPUs, MaxCPUs     float64 // ECODE_SANDBOX_CPUS, ECODE_SANDBOX_MAX_CPUS: cores of CPU time
	Pids, MaxPids     int64   // ECODE_SANDBOX_PIDS, ECODE_SANDBOX_MAX_PIDS: processes and threads
	MaxDisk           int64   // ECODE_SANDBOX_MAX_DISK: bytes of project files
}

// OAuthClient is this server's registration at one login provider; the
// provider is offered once both the id and the secret are set.
type OAuthClient struct {
	ClientID     string
	ClientSecret string
	BaseURL      string // replaces the provider's origin(s) for every endpoint: self-hosted GitLab, GitHub Enterprise, test servers
}

// Enabled reports whether the operator registered this server at the provider.
func (o OAuthClient) Enabled() bool { return o.ClientID != "" && o.ClientSecret != "" }

// OAuthProviders are the login providers, by the names their settings use
// (ECODE_OAUTH_GITHUB_..., lower-cased here), in the order they are shown.
var OAuthProviders = []string{"github", "google", "gitlab", "bitbucket", "discord", "slack", "azuread"}

// OAuthSettings are the login providers' registrations.
type OAuthSettings struct {
	GitHub, Google, GitLab, Bitbucket, Discord, Slack, AzureAD OAuthClient

	AzureADTenant string // ECODE_OAUTH_AZUREAD_TENANT: common, organizations, consumers, or one tenant's id or domain
}

// Client returns the registration of provider (one of OAuthProviders), or nil.
func (o *OAuthSettings) Client(provider string) *OAuthClient {
	return map[string]*OAuthClient{
		"github": &o.GitHub, "google": &o.Google, "gitlab": &o.GitLab, "bitbucket": &o.Bitbucket,
		"discord": &o.Discord, "slack": &o.Slack, "azuread": &o.AzureAD,
	}[provider]
}

// Default returns the settings for a fresh machine.
func Default() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		DataDir:           "./ecode-data",
		LogFormat:         "text",
		LogLevel:          "info",
		MaxFileBytes:      20 << 20,
		MaxProjectBytes:   1 << 30,
		MaxCacheBytes:     2 << 30,
		GoCachePrewarm:    true,
		AllowSignup:       true,
		PreviewDomain:     "localhost",
		DeployDomain:      "app.localhost",
		SandboxIdle:       15 * time.Minute,
		ShellIdle:         10 * time.Minute,
		DeployIdle:        60 * time.Second,
		DeployDriver:      "local",
		DockerHost:        "unix:///var/run/docker.sock",
		Runtime:           "bwrap",
		KubeNamespace:     "default",
		ServerID:          hostname(),
		NATSStream:        "ECODE_EVENTS",
		ClusterLease:      10 * time.Second,
		KubeNodeLost:      30 * time.Second,
		ImageRegistry:     "registry.local",
		AlertInterval:     time.Minute,
		MonitorRate:       300,
		BillingGrace:      72 * time.Hour,
		MeterInterval:     30 * time.Second,
		RatingInterval:    time.Minute,
		GradingWorkers:    int64(2 * runtime.NumCPU()),
		GPUs:              "auto",
		DatabaseQuota:     1 << 30,
		StorageQuota:      10 << 30,
		AutoCheckpoint:    time.Minute,
		AutoCheckpointGap: 5 * time.Minute,
		DiskCheck:         5 * time.Second,
		ReadTimeout:       30 * time.Second,
		MinSchedule:       time.Minute,
		ACMECA:            "https://acme-v02.api.letsencrypt.org/directory",
		OAuth:             OAuthSettings{AzureADTenant: "common"},
		Sandbox: SandboxLimits{
			Memory: 1 << 30, MaxMemory: 4 << 30, CPUs: 1, MaxCPUs: 2, Pids: 256, MaxPids: 1024, MaxDisk: 4 << 30,
		},
	}
}

// Bind registers the serve flags on fs. Each flag's default is its
// environment variable when set, else the Default value.
func (c *Config) Bind(fs *flag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" ("+env+")")
	}
	num := func(p *int64, name, env, usage string) {
		if v, err := strconv.ParseInt(getenv(env), 10, 64); err == nil {
			*p = v
		}
		fs.Int64Var(p, name, *p, usage+" ("+env+")")
	}
	duration := func(p *time.Duration, name, env, usage string) {
		if v, err := time.ParseDuration(getenv(env)); err == nil {
			*p = v
		}
		fs.DurationVar(p, name, *p, usage+" ("+env+")")
	}
	size := func(p *int64, name, env, usage string) {
		if v, err := ParseSize(getenv(env)); err == nil {
			*p = v
		}
		fs.Func(name, usage+"; bytes, or with a unit such as 512M or 2G ("+env+")", func(v string) error {
			n, err := ParseSize(v)
			*p = n
			return err
		})
	}
	decimal := func(p *float64, name, env, usage string) {
		if v, err := strconv.ParseFloat(getenv(env), 64); err == nil {
			*p = v
		}
		fs.Float64Var(p, name, *p, usage+" ("+env+")")
	}
	boolean := func(p *bool, name, env, usage string) {
		if v, err := strconv.ParseBool(getenv(env)); err == nil {
			*p = v
		}
		fs.BoolVar(p, name, *p, usage+" ("+env+")")
	}
	str(&c.Addr, "addr", "ECODE_ADDR", "address to listen on")
	str(&c.DataDir, "data-dir", "ECODE_DATA_DIR", "directory for the SQLite database and project files")
	str(&c.DatabaseURL, "database-url", "ECODE_DATABASE_URL", "postgres://... to use PostgreSQL; empty for SQLite in the data dir")
	str(&c.PublicURL, "public-url", "ECODE_PUBLIC_URL", "URL browsers use to reach the server (default http://ADDR)")
	str(&c.PasskeyOrigin, "passkey-origin", "ECODE_PASSKEY_ORIGIN", "origin where browsers use passkeys (default the public URL's, or http://localhost:PORT when that is a loopback IP); its host, a domain name and never an IP address, is the WebAuthn relying party")
	str(&c.LogFormat, "log-format", "ECODE_LOG_FORMAT", "log format: text or json")
	str(&c.LogLevel, "log-level", "ECODE_LOG_LEVEL", "log level: debug, info, warn or error")
	num(&c.MaxFileBytes, "max-file-bytes", "ECODE_MAX_FILE_BYTES", "largest file a project may hold")
	num(&c.MaxProjectBytes, "max-project-bytes", "ECODE_MAX_PROJECT_BYTES", "largest total size of a project's files")
	num(&c.MaxCacheBytes, "max-cache-bytes", "ECODE_MAX_CACHE_BYTES", "largest a project's ~/.cache (build and package caches) may grow; over it the sandbox stops and the oldest cached files go")
	boolean(&c.GoCachePrewarm, "go-cache-prewarm", "ECODE_GO_CACHE_PREWARM", "when a Go toolchain is installed, compile Go's standard library into the cache every sandbox shares soon after start, at low priority, so that no one's first Go Run waits for it")
	sb := &c.Sandbox
	size(&sb.Memory, "sandbox-memory", "ECODE_SANDBOX_MEMORY", "memory of a project's sandbox unless its owner sets another")
	size(&sb.MaxMemory, "sandbox-max-memory", "ECODE_SANDBOX_MAX_MEMORY", "most memory a project's owner may give its sandbox")
	decimal(&sb.CPUs, "sandbox-cpus", "ECODE_SANDBOX_CPUS", "CPU cores of a project's sandbox unless its owner sets another")
	decimal(&sb.MaxCPUs, "sandbox-max-cpus", "ECODE_SANDBOX_MAX_CPUS", "most CPU cores a project's owner may give its sandbox")
	num(&sb.Pids, "sandbox-pids", "ECODE_SANDBOX_PIDS", "processes (and threads) of a project's sandbox unless its owner sets another")
	num(&sb.MaxPids, "sandbox-max-pids", "ECODE_SANDBOX_MAX_PIDS", "most processes a project's owner may give its sandbox")
	size(&sb.MaxDisk, "sandbox-max-disk", "ECODE_SANDBOX_MAX_DISK", "most disk a project's owner may give its files; each starts with ECODE_MAX_PROJECT_BYTES")
	boolean(&c.AllowSignup, "allow-signup", "ECODE_ALLOW_SIGNUP", "let anyone create an account")
	str(&c.PreviewDomain, "preview-domain", "ECODE_PREVIEW_DOMAIN", "previews are served at {slug}--{owner}.DOMAIN")
	str(&c.DeployDomain, "deploy-domain", "ECODE_DEPLOY_DOMAIN", "deployments are served at {slug}--{owner}.DOMAIN")
	duration(&c.SandboxIdle, "sandbox-idle", "ECODE_SANDBOX_IDLE", "stop a project's sandbox after this long unused")
	duration(&c.ShellIdle, "shell-idle", "ECODE_SHELL_IDLE", "close a shell once nobody has had it open for this long")
	str(&c.ProjectPostgres, "project-postgres-url", "ECODE_PROJECT_POSTGRES_URL", "a PostgreSQL server for projects' databases, as a role with CREATEDB and CREATEROLE; empty runs the platform's own cluster from the machine's PostgreSQL under the data dir")
	num(&c.DatabaseQuota, "database-quota", "ECODE_DATABASE_QUOTA", "bytes a project's database may hold; over it the database turns read-only until it shrinks")
	str(&c.ObjectsURL, "objects-url", "ECODE_OBJECTS_URL", "where object storage keeps its bytes, as a gocloud.dev blob URL (s3://bucket?region=..., gs://bucket, azblob://container, file:///dir); empty: the objects folder of the data dir")
	num(&c.StorageQuota, "storage-quota", "ECODE_STORAGE_QUOTA", "bytes of objects a project environment's object storage may hold")
	str(&c.ImageRegistry, "image-registry", "ECODE_IMAGE_REGISTRY", "exported Kubernetes and Cloud Run manifests name each release's image {REGISTRY}/ecode/{owner}-{slug}:{release}")
	str(&c.DeployDriver, "deploy-driver", "ECODE_DEPLOY_DRIVER", "what builds and runs deployments: local (a sandbox, as Run), docker (a container of an image per release, on ECODE_DOCKER_HOST) or kube (apps as Deployments and Services, scheduled runs as Jobs, on the kube runtime's cluster)")
	str(&c.Runtime, "runtime", "ECODE_RUNTIME", "where sandboxes run: bwrap (on this machine) or kube (a pod each, on the cluster of ECODE_KUBECONFIG)")
	str(&c.Kubeconfig, "kubeconfig", "ECODE_KUBECONFIG", "the kubeconfig file of the kube runtime's cluster; empty uses the service account of the pod the server runs in")
	str(&c.KubeNamespace, "kube-namespace", "ECODE_KUBE_NAMESPACE", "the namespace of sandbox pods")
	str(&c.KubeRuntimeClass, "kube-runtime-class", "ECODE_KUBE_RUNTIME_CLASS", "the RuntimeClass of sandbox pods, such as gvisor; empty: the cluster's default")
	str(&c.KubeDataClaim, "kube-data-claim", "ECODE_KUBE_DATA_CLAIM", "a ReadWriteMany PersistentVolumeClaim holding the data dir, which sandbox pods mount projects from; empty: from their node, which must be this machine or hold the data dir at the same path")
	str(&c.KubeNodePool, "kube-node-pool", "ECODE_KUBE_NODE_POOL", "LABEL=VALUE: put sandbox and app pods on the nodes with that label, tolerating a taint of the same key and value; empty: any node")
	duration(&c.KubeNodeLost, "kube-node-lost", "ECODE_KUBE_NODE_LOST", "how long the pods of a node that stopped answering wait for it before they are moved off (Kubernetes' default is 5m)")
	str(&c.SandboxImage, "sandbox-image", "ECODE_SANDBOX_IMAGE", "the image of sandbox pods; empty: made from this machine's toolchain and pushed to ECODE_IMAGE_REGISTRY")
	str(&c.ServerID, "server-id", "ECODE_SERVER_ID", "names this server among those sharing a database and cluster (its pods carry it); default the host name")
	str(&c.PeerURL, "peer-url", "ECODE_PEER_URL", "how the other servers sharing this database reach this one (http://10.0.0.5:8080); set, several servers run as one: each project is held by one of them and requests for it are forwarded there")
	str(&c.NATSURL, "nats-url", "ECODE_NATS_URL", "the NATS server, with JetStream, that carries events between the servers of a cluster (nats://127.0.0.1:4222); needed with ECODE_PEER_URL")
	str(&c.NATSStream, "nats-stream", "ECODE_NATS_STREAM", "the JetStream stream of the cluster's events; two platforms sharing one NATS need two names")
	duration(&c.ClusterLease, "cluster-lease", "ECODE_CLUSTER_LEASE", "a server of a cluster unseen this long counts as dead, and the others take its projects over")
	str(&c.DockerHost, "docker-host", "ECODE_DOCKER_HOST", "the Docker Engine API (or Podman's compatible service) of the docker deploy driver, such as unix:///var/run/docker.sock or tcp://host:2375")
	duration(&c.DeployIdle, "deploy-idle", "ECODE_DEPLOY_IDLE", "stop an autoscale deployment's instance once idle this long (its stable window; to zero when minInstances is 0)")
	duration(&c.AutoCheckpoint, "auto-checkpoint", "ECODE_AUTO_CHECKPOINT", "checkpoint a project by itself once its files have gone this long unchanged after a change; 0 turns automatic checkpoints off")
	duration(&c.AutoCheckpointGap, "auto-checkpoint-gap", "ECODE_AUTO_CHECKPOINT_GAP", "least time between two automatic checkpoints of a project")
	str(&c.GitImportRoots, "git-import-roots", "ECODE_GIT_IMPORT_ROOTS", "comma-separated host folders that file:// git imports may clone from")
	str(&c.TrustedProxies, "trusted-proxies", "ECODE_TRUSTED_PROXIES", "comma-separated CIDRs of the reverse proxies in front of the server, whose X-Forwarded-For names the client; empty believes no header")
	str(&c.EgressPrivate, "egress-allow-private", "ECODE_EGRESS_ALLOW_PRIVATE", "comma-separated CIDRs of private networks that sandboxes, git imports and custom-domain checks may reach, such as an internal git server")
	str(&c.MasterKey, "master-key", "ECODE_MASTER_KEY", "base64 of the 32-byte key that seals secrets at rest; empty uses master.key in the data dir, created on first start")
	str(&c.PreviousKeys, "master-key-previous", "ECODE_MASTER_KEY_PREVIOUS", "comma-separated earlier master keys (base64): values sealed with them still open; `ecode admin reseal` moves them to the current key")
	if v := getenv("ANTHROPIC_API_KEY"); v != "" {
		c.AnthropicKey = v
	}
	str(&c.AnthropicKey, "anthropic-api-key", "ECODE_ANTHROPIC_API_KEY", "API key for the AI agent and completions (ANTHROPIC_API_KEY works too)")
	str(&c.AnthropicURL, "anthropic-base-url", "ECODE_ANTHROPIC_BASE_URL", "base URL of any Anthropic-compatible Messages API (Ollama, vLLM, OpenRouter); empty uses Anthropic's")
	str(&c.OpenAIURL, "openai-base-url", "ECODE_OPENAI_BASE_URL", "base URL of an OpenAI-compatible Chat Completions API (Ollama, vLLM, OpenRouter), used when no Anthropic key or URL is set; needs ECODE_AI_MODEL")
	str(&c.OpenAIKey, "openai-api-key", "ECODE_OPENAI_API_KEY", "API key for ECODE_OPENAI_BASE_URL, when it needs one")
	str(&c.AIModel, "ai-model", "ECODE_AI_MODEL", "model for the agent and completions (default: a current Claude Sonnet)")
	duration(&c.DiskCheck, "disk-check", "ECODE_DISK_CHECK", "how often a running project's size is held to its limit")
	duration(&c.MinSchedule, "min-schedule-interval", "ECODE_MIN_SCHEDULE_INTERVAL", "the shortest time a scheduled deployment's schedule may leave between two runs")
	str(&c.WebhookPrivate, "webhook-allow-private", "ECODE_WEBHOOK_ALLOW_PRIVATE", "comma-separated CIDRs of private networks (or single own addresses, such as 127.0.0.1/32) that deployments' failure webhooks may be sent to; empty allows public addresses only")
	str(&c.TLSAddr, "tls-addr", "ECODE_TLS_ADDR", "address of the HTTPS listener (such as :443) that serves custom domains with certificates obtained on demand; empty for none")
	str(&c.ACMECA, "acme-ca", "ECODE_ACME_CA", "directory URL of the ACME server certificates for custom domains come from")
	str(&c.ACMEEmail, "acme-email", "ECODE_ACME_EMAIL", "contact address of the platform's ACME account, for expiry notices")
	str(&c.ACMECARoot, "acme-ca-root", "ECODE_ACME_CA_ROOT", "PEM file of root certificates to trust for the ACME server's own HTTPS, such as a test CA's; empty trusts the system's")
	str(&c.SMTPURL, "smtp-url", "ECODE_SMTP_URL", "SMTP server for alert email: smtp://user:password@host:587 (STARTTLS when offered) or smtps://host:465; empty sends no email")
	str(&c.SMTPFrom, "smtp-from", "ECODE_SMTP_FROM", "From address of the platform's email, such as E-Code <alerts@example.com>")
	duration(&c.AlertInterval, "alert-interval", "ECODE_ALERT_INTERVAL", "how often alert rules are evaluated against monitoring data")
	if v := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); v != "" {
		c.OTLPEndpoint = v
	}
	str(&c.OTLPEndpoint, "otlp-endpoint", "ECODE_OTLP_ENDPOINT", "OTLP/HTTP endpoint (such as http://collector:4318) the platform's traces are exported to (OTEL_EXPORTER_OTLP_ENDPOINT works too); empty exports none")
	boolean(&c.Billing, "billing", "ECODE_BILLING", "enforce credits: at zero balance new runs and agent runs wait for a top-up and deployments stop after the grace period; usage is metered either way")
	str(&c.PlansFile, "plans-file", "ECODE_PLANS_FILE", "JSON file of plans (monthly credits, Stripe prices), the price of each meter and top-up packs; empty uses the built-in Free, Pro and Team")
	duration(&c.BillingGrace, "billing-grace", "ECODE_BILLING_GRACE", "how long a deployment keeps serving after its payer runs out of credits, before it stops (nothing is deleted)")
	duration(&c.MeterInterval, "meter-interval", "ECODE_METER_INTERVAL", "how often running sandboxes' and deployment instances' CPU and memory are sampled for billing")
	duration(&c.RatingInterval, "rating-interval", "ECODE_RATING_INTERVAL", "how often metered usage is rated into ledger entries")
	str(&c.StripeKey, "stripe-secret-key", "ECODE_STRIPE_SECRET_KEY", "Stripe secret API key for Checkout, the customer portal and Billing Meters; empty: credits are granted by administrators only")
	str(&c.StripeWebhookKey, "stripe-webhook-secret", "ECODE_STRIPE_WEBHOOK_SECRET", "signing secret (whsec_...) of the Stripe webhook endpoint /api/billing/stripe/webhook")
	str(&c.StripeURL, "stripe-api-url", "ECODE_STRIPE_API_URL", "Stripe API base URL, such as a stripe-mock's; empty: https://api.stripe.com")
	num(&c.GradingWorkers, "grading-workers", "ECODE_GRADING_WORKERS", "how many submissions are graded at once, each in a sandbox of its own; the rest wait in the job queue")
	str(&c.GPUs, "gpus", "ECODE_GPUS", "auto: find the host's NVIDIA GPUs (nvidia-smi) at start and lease them to projects that ask; off: offer none")
	str(&c.GPUSimulate, "gpu-simulate", "ECODE_GPU_SIMULATE", "simulated GPUs instead of the host's, for trying GPU projects without hardware: COUNTxMODEL-<GB>GB[:mig=PROFILE+...], comma-separated; sandboxes get their environment and no device")
	decimal(&c.MonitorRate, "monitor-events-per-second", "ECODE_MONITOR_EVENTS_PER_SECOND", "monitoring events (errors, vitals, page views) one client may send per second to one project; bursts up to ten seconds' worth")
	duration(&c.ReadTimeout, "read-timeout", "ECODE_READ_TIMEOUT", "longest a client may take to send a request's headers, and longest a request body may pause; uploads of any length are fine while they keep moving")
	for _, p := range OAuthProviders {
		o, env := c.OAuth.Client(p), "ECODE_OAUTH_"+strings.ToUpper(p)
		str(&o.ClientID, "oauth-"+p+"-client-id", env+"_CLIENT_ID", "client id of this server's OAuth app at "+p+"; with the secret, offers log in with "+p)
		str(&o.ClientSecret, "oauth-"+p+"-client-secret", env+"_CLIENT_SECRET", "client secret of this server's OAuth app at "+p)
		str(&o.BaseURL, "oauth-"+p+"-base-url", env+"_BASE_URL", "origin of a self-hosted or test "+p+" server; empty for the public service")
	}
	str(&c.OAuth.AzureADTenant, "oauth-azuread-tenant", "ECODE_OAUTH_AZUREAD_TENANT", "Microsoft Entra ID tenant: common, organizations, consumers, or one tenant's id or domain")
}

// Load parses args (after the subcommand) into a Config.
func Load(name string, args []string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.Bind(fs, os.Getenv)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the settings and fills in those derived from others.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("data dir must not be empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("data dir %q: %w", c.DataDir, err)
	}
	c.DataDir = abs
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("database url must start with postgres:// (or be empty for SQLite)")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.PreviewDomain == "" || strings.ContainsAny(c.PreviewDomain, "/:") {
		return fmt.Errorf("preview domain %q must be a bare domain such as localhost or preview.example.com", c.PreviewDomain)
	}
	if c.DeployDomain == "" || strings.ContainsAny(c.DeployDomain, "/:") || strings.EqualFold(c.DeployDomain, c.PreviewDomain) {
		return fmt.Errorf("deploy domain %q must be a bare domain such as app.localhost or apps.example.com, not the preview domain", c.DeployDomain)
	}
	if c.Runtime != "bwrap" && c.Runtime != "kube" {
		return fmt.Errorf("runtime %q: want bwrap or kube", c.Runtime)
	}
	if c.Runtime == "kube" && c.ServerID == "" {
		return fmt.Errorf("the kube runtime needs a server id (ECODE_SERVER_ID)")
	}
	if c.PeerURL != "" {
		if !strings.HasPrefix(c.DatabaseURL, "postgres") {
			return fmt.Errorf("several servers (ECODE_PEER_URL) need a shared PostgreSQL database (ECODE_DATABASE_URL)")
		}
		if c.NATSURL == "" || !serverID.MatchString(c.ServerID) {
			return fmt.Errorf("several servers (ECODE_PEER_URL) need NATS (ECODE_NATS_URL) and a server id each (ECODE_SERVER_ID: letters, digits, '.', '_' and '-')")
		}
		if c.ProjectPostgres == "" {
			return fmt.Errorf("several servers (ECODE_PEER_URL) need a PostgreSQL server for projects' databases (ECODE_PROJECT_POSTGRES_URL): each would start its own over the data dir they share")
		}
		if c.ClusterLease < 300*time.Millisecond {
			return fmt.Errorf("cluster lease must be at least 300ms")
		}
	}
	if c.DeployDriver != "local" && c.DeployDriver != "docker" && c.DeployDriver != "kube" {
		return fmt.Errorf("deploy driver %q: want local, docker or kube", c.DeployDriver)
	}
	if c.GPUs != "auto" && c.GPUs != "off" {
		return fmt.Errorf("ECODE_GPUS %q: want auto or off", c.GPUs)
	}
	if c.GPUSimulate != "" {
		if _, err := gpu.Simulated(c.GPUSimulate); err != nil {
			return fmt.Errorf("ECODE_GPU_SIMULATE: %w", err)
		}
	}
	if c.DeployDriver == "kube" && c.Runtime != "kube" {
		return fmt.Errorf("the kube deploy driver runs on the kube runtime's cluster: set ECODE_RUNTIME=kube too")
	}
	if c.SandboxIdle < time.Second || c.DiskCheck < 100*time.Millisecond {
		return fmt.Errorf("sandbox idle timeout must be at least 1s and the disk check interval at least 100ms")
	}
	if c.ShellIdle < time.Second {
		return fmt.Errorf("shell idle timeout must be at least 1s")
	}
	if c.DeployIdle < 100*time.Millisecond {
		return fmt.Errorf("deploy idle window must be at least 100ms")
	}
	if c.AlertInterval < 100*time.Millisecond {
		return fmt.Errorf("alert interval must be at least 100ms")
	}
	if c.MeterInterval < 100*time.Millisecond || c.RatingInterval < 100*time.Millisecond {
		return fmt.Errorf("meter and rating intervals must be at least 100ms")
	}
	if c.StripeKey != "" && c.StripeWebhookKey == "" {
		return fmt.Errorf("ECODE_STRIPE_WEBHOOK_SECRET must be set with ECODE_STRIPE_SECRET_KEY, so Stripe's events can be verified")
	}
	if c.GradingWorkers < 1 {
		return fmt.Errorf("grading workers must be at least 1")
	}
	if c.MonitorRate <= 0 {
		return fmt.Errorf("monitoring events per second must be above 0")
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return fmt.Errorf("smtp url %q must look like smtp://user:password@host:587 or smtps://host:465", c.SMTPURL)
		}
		if c.SMTPFrom == "" {
			return fmt.Errorf("ECODE_SMTP_FROM must name the From address when ECODE_SMTP_URL is set")
		}
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("otlp endpoint %q must be an http:// or https:// URL, such as http://collector:4318", c.OTLPEndpoint)
		}
	}
	if c.ImageRegistry == "" || strings.Contains(c.ImageRegistry, "://") || strings.HasSuffix(c.ImageRegistry, "/") {
		return fmt.Errorf("image registry %q must be a host with an optional port and path, such as registry.example.com:5000/team", c.ImageRegistry)
	}
	if c.AutoCheckpoint < 0 || c.AutoCheckpointGap < 0 {
		return fmt.Errorf("automatic checkpoint delays must not be negative")
	}
	if c.ReadTimeout < 100*time.Millisecond {
		return fmt.Errorf("read timeout must be at least 100ms")
	}
	if c.MaxFileBytes <= 0 || c.MaxProjectBytes < c.MaxFileBytes {
		return fmt.Errorf("max file bytes must be positive and no more than max project bytes")
	}
	if c.DatabaseQuota <= 0 {
		return fmt.Errorf("database quota %d: must be positive", c.DatabaseQuota)
	}
	if c.StorageQuota <= 0 {
		return fmt.Errorf("storage quota %d: must be positive", c.StorageQuota)
	}
	if c.ObjectsURL == "" {
		// Temporary files beside the final ones: the data dir may not share a
		// file system with the machine's temp dir, and renames need one.
		c.ObjectsURL = (&url.URL{Scheme: "file", Path: filepath.Join(c.DataDir, "objects"), RawQuery: "create_dir=1&no_tmp_dir=1&metadata=skip"}).String()
	}
	if c.MaxCacheBytes <= 0 {
		return fmt.Errorf("max cache bytes must be positive")
	}
	if err := c.Sandbox.validate(c.MaxProjectBytes); err != nil {
		return err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("public url %q must be an absolute http(s) URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.PasskeyOrigin == "" {
		c.PasskeyOrigin = defaultPasskeyOrigin(u)
	}
	if u, err := url.Parse(c.PasskeyOrigin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("passkey origin %q must be an http(s) origin such as https://code.example.com", c.PasskeyOrigin)
	}
	if _, err := c.PrivateNets(); err != nil {
		return fmt.Errorf("egress allow private: %w", err)
	}
	if _, err := c.Proxies(); err != nil {
		return fmt.Errorf("trusted proxies: %w", err)
	}
	if _, err := c.WebhookNets(); err != nil {
		return fmt.Errorf("webhook allow private: %w", err)
	}
	if u, err := url.Parse(c.ACMECA); c.TLSAddr != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		return fmt.Errorf("ACME CA %q must be an https directory URL", c.ACMECA)
	}
	if c.MinSchedule < time.Second {
		return fmt.Errorf("min schedule interval %s: at least 1s", c.MinSchedule)
	}
	if c.AI().API == "openai" && c.AIModel == "" {
		return fmt.Errorf("ECODE_OPENAI_BASE_URL needs ECODE_AI_MODEL: the name of the model that server serves")
	}
	return c.OAuth.validate()
}

// defaultPasskeyOrigin is where passkeys work for a server at public URL u.
// WebAuthn refuses an IP address as relying party; a loopback one (the
// default http://127.0.0.1:8080) is the same machine as localhost, which
// browsers accept, so passkeys work there out of the box.
func defaultPasskeyOrigin(u *url.URL) string {
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && ip.IsLoopback() {
		host := "localhost"
		if port := u.Port(); port != "" {
			host += ":" + port
		}
		return u.Scheme + "://" + host
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host, "/")
}

// validate checks each default is positive and within its ceiling.
func (l SandboxLimits) validate(disk int64) error {
	for _, c := range []struct {
		name       string
		value, max float64
	}{
		{"ECODE_SANDBOX_MEMORY", float64(l.Memory), float64(l.MaxMemory)},
		{"ECODE_SANDBOX_CPUS", l.CPUs, l.MaxCPUs},
		{"ECODE_SANDBOX_PIDS", float64(l.Pids), float64(l.MaxPids)},
		{"ECODE_MAX_PROJECT_BYTES", float64(disk), float64(l.MaxDisk)},
	} {
		if c.value <= 0 || c.value > c.max {
			return fmt.Errorf("%s must be positive and no more than its ceiling (the _MAX_ setting, or ECODE_SANDBOX_MAX_DISK for the disk)", c.name)
		}
	}
	return nil
}

// ParseSize reads a byte count: a plain number, or one with a binary unit
// K, M, G or T (512M, 2G, also 2GiB).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "B"), "i")
	shift := 0
	if s != "" {
		switch s[len(s)-1] {
		case 'K', 'k':
			shift = 10
		case 'M', 'm':
			shift = 20
		case 'G', 'g':
			shift = 30
		case 'T', 't':
			shift = 40
		}
	}
	if shift > 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is not a size such as 1073741824, 512M or 2G", s)
	}
	return n << shift, nil
}

var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$`)

// validate checks each provider's registration is whole and its base URL usable.
func (o *OAuthSettings) validate() error {
	for _, p := range OAuthProviders {
		c, env := o.Client(p), "ECODE_OAUTH_"+strings.ToUpper(p)
		if (c.ClientID == "") != (c.ClientSecret == "") {
			return fmt.Errorf("%s_CLIENT_ID and %s_CLIENT_SECRET go together: set both to offer log in with %s, or neither", env, env, p)
		}
		if c.BaseURL == "" {
			continue
		}
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("%s_BASE_URL %q must be an absolute http(s) URL such as https://gitlab.example.com", env, c.BaseURL)
		}
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	}
	if o.AzureADTenant == "" {
		o.AzureADTenant = "common"
	}
	if !tenantRE.MatchString(o.AzureADTenant) {
		return fmt.Errorf("ECODE_OAUTH_AZUREAD_TENANT %q must be common, organizations, consumers, or a tenant id or domain", o.AzureADTenant)
	}
	return nil
}

// AIEndpoint is where the agent's model is, as the settings name it.
type AIEndpoint struct{ API, BaseURL, APIKey, Model string }

// AI picks the model's API: Anthropic's Messages API when its key or URL
// is set, else an OpenAI-compatible server when its URL is.
func (c *Config) AI() AIEndpoint {
	if c.AnthropicKey == "" && c.AnthropicURL == "" && c.OpenAIURL != "" {
		return AIEndpoint{API: "openai", BaseURL: c.OpenAIURL, APIKey: c.OpenAIKey, Model: c.AIModel}
	}
	return AIEndpoint{API: "anthropic", BaseURL: c.AnthropicURL, APIKey: c.AnthropicKey, Model: c.AIModel}
}

// PrivateNets parses EgressPrivate.
func (c *Config) PrivateNets() ([]netip.Prefix, error) { return cidrs(c.EgressPrivate) }

// WebhookNets parses WebhookPrivate.
func (c *Config) WebhookNets() ([]netip.Prefix, error) { return cidrs(c.WebhookPrivate) }

// serverID is what a server of a cluster may be named: it names folders.
var serverID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Proxies parses TrustedProxies.
func (c *Config) Proxies() ([]netip.Prefix, error) { return cidrs(c.TrustedProxies) }

func cidrs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ImportRoots lists the folders of GitImportRoots.
func (c *Config) ImportRoots() []string {
	var out []string
	for _, r := range strings.Split(c.GitImportRoots, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// PreviewOrigin is the origin pattern of every preview, for a content
// security policy: the public URL's scheme, any subdomain of the preview
// domain, any port.
func (c *Config) PreviewOrigin() string {
	scheme := "http"
	if strings.HasPrefix(c.PublicURL, "https://") {
		scheme = "https"
	}
	return scheme + "://*." + c.PreviewDomain + ":*"
}

// SecureCookies reports whether cookies must be marked Secure.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

func hostname() string {
	h, _ := os.Hostname()
	return h
}
