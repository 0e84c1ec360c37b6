package billing

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The meters: what costs, each counted in its own base unit.
const (
	MeterCPU      = "sandbox.cpu"      // CPU microseconds (cgroup cpu.stat usage_usec deltas)
	MeterMemory   = "sandbox.memory"   // byte-seconds (memory.current × seconds)
	MeterGPU      = "sandbox.gpu"      // GPU milliseconds held; Attr = MIG profile, "" for a whole GPU
	MeterAIIn     = "ai.input"         // tokens; Attr = model
	MeterAIOut    = "ai.output"        // tokens; Attr = model
	MeterFiles    = "storage.files"    // byte-seconds of project files
	MeterDatabase = "storage.database" // byte-seconds of the project's databases
	MeterObjects  = "storage.objects"  // byte-seconds of object storage
	MeterBackups  = "storage.backups"  // byte-seconds of database backups
	MeterInstance = "deploy.instance"  // instance milliseconds; Attr = size ("0.5cpu-512mib")
	MeterEgress   = "egress"           // bytes served to the internet by deployments
)

// Meters lists every meter, in the order the plans page shows them.
var meters = []string{MeterCPU, MeterMemory, MeterGPU, MeterAIIn, MeterAIOut, MeterFiles, MeterDatabase,
	MeterObjects, MeterBackups, MeterInstance, MeterEgress}

// Categories of the usage page.
const (
	CategoryCompute     = "compute"
	CategoryAI          = "ai"
	CategoryStorage     = "storage"
	CategoryDeployments = "deployments"
	CategoryEgress      = "egress"
)

// Category is the usage page's group of meter.
func Category(meter string) string {
	switch {
	case strings.HasPrefix(meter, "sandbox."):
		return CategoryCompute
	case strings.HasPrefix(meter, "ai."):
		return CategoryAI
	case strings.HasPrefix(meter, "storage."):
		return CategoryStorage
	case meter == MeterInstance:
		return CategoryDeployments
	case meter == MeterEgress:
		return CategoryEgress
	}
	return ""
}

// BaseUnit names what a meter's quantities count.
func BaseUnit(meter string) string {
	switch meter {
	case MeterCPU:
		return "CPU-microsecond"
	case MeterMemory, MeterFiles, MeterDatabase, MeterObjects, MeterBackups:
		return "byte-second"
	case MeterGPU:
		return "GPU-millisecond"
	case MeterAIIn, MeterAIOut:
		return "token"
	case MeterInstance:
		return "instance-millisecond"
	case MeterEgress:
		return "byte"
	}
	return ""
}

// Catalog is what is sold: plans, the price of each meter and top-up
// packs. DefaultCatalog has the defaults; a JSON file of the same shape
// replaces them (LoadCatalog).
type Catalog struct {
	Plans           []Plan                `json:"plans"`
	DefaultPlan     string                `json:"defaultPlan"`
	DefaultTeamPlan string                `json:"defaultTeamPlan"`
	Prices          map[string]MeterPrice `json:"prices"`
	TopUps          TopUps                `json:"topUps"`
}

// Plan is a subscription: its monthly grant in credits and its price.
type Plan struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	MonthlyCredits int64  `json:"monthlyCredits"`
	PriceCents     int64  `json:"priceCents"`
	StripePrice    string `json:"stripePrice,omitempty"`
	Teams          bool   `json:"teams,omitempty"`
	// GPU lets the plan's projects and deployments ask for a GPU.
	GPU bool `json:"gpu,omitempty"`
}

// MeterPrice is µcr per display unit (Unit). AI meters may price models
// apart (by the longest matching prefix of the model's name); deployment
// instances are priced per vCPU-second and GiB-second of their size.
type MeterPrice struct {
	Unit     string           `json:"unit"`
	Micro    int64            `json:"micro,omitempty"`
	Models   map[string]int64 `json:"models,omitempty"`
	CPUMicro int64            `json:"cpuMicro,omitempty"`
	MemMicro int64            `json:"memMicro,omitempty"`
}

// TopUps bounds what a person may buy at once and at what price.
type TopUps struct {
	MinCredits     int64 `json:"minCredits"`
	CentsPerCredit int64 `json:"centsPerCredit"`
}

// DefaultCatalog is Free, Pro and Team with the default prices.
func DefaultCatalog() Catalog {
	return Catalog{
		Plans: []Plan{
			{ID: "free", Name: "Free", MonthlyCredits: 500},
			{ID: "pro", Name: "Pro", MonthlyCredits: 2500, PriceCents: 2500, GPU: true},
			{ID: "team", Name: "Team", MonthlyCredits: 4000, PriceCents: 4000, Teams: true, GPU: true},
		},
		DefaultPlan:     "free",
		DefaultTeamPlan: "team",
		Prices: map[string]MeterPrice{
			MeterCPU:      {Unit: "CPU-second", Micro: 2400},
			MeterMemory:   {Unit: "GiB-second", Micro: 250},
			MeterGPU:      {Unit: "GPU-second", Micro: 80_000},
			MeterAIIn:     {Unit: "token", Micro: 300, Models: map[string]int64{"claude-haiku": 100, "claude-opus": 1500}},
			MeterAIOut:    {Unit: "token", Micro: 1500, Models: map[string]int64{"claude-haiku": 500, "claude-opus": 7500}},
			MeterFiles:    {Unit: "GB-month", Micro: 10_000_000},
			MeterDatabase: {Unit: "GB-month", Micro: 20_000_000},
			MeterObjects:  {Unit: "GB-month", Micro: 10_000_000},
			MeterBackups:  {Unit: "GB-month", Micro: 5_000_000},
			MeterInstance: {Unit: "vCPU-second + GiB-second", CPUMicro: 2400, MemMicro: 250},
			MeterEgress:   {Unit: "GB", Micro: 10_000_000},
		},
		TopUps: TopUps{MinCredits: 500, CentsPerCredit: 1},
	}
}

// LoadCatalog reads a catalog from a JSON file and checks it.
func LoadCatalog(path string) (Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Catalog{}, fmt.Errorf("read plans file: %w", err)
	}
	var c Catalog
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Catalog{}, fmt.Errorf("plans file %s: %w", path, err)
	}
	// A meter the file does not price, and top-ups it leaves out, keep
	// the built-in ones: an operator names only what they change.
	def := DefaultCatalog()
	if c.Prices == nil {
		c.Prices = map[string]MeterPrice{}
	}
	for m, p := range def.Prices {
		if _, ok := c.Prices[m]; !ok {
			c.Prices[m] = p
		}
	}
	if c.TopUps == (TopUps{}) {
		c.TopUps = def.TopUps
	}
	if err := c.Validate(); err != nil {
		return Catalog{}, fmt.Errorf("plans file %s: %w", path, err)
	}
	return c, nil
}

// Validate checks that every plan and price makes sense.
func (c *Catalog) Validate() error {
	if len(c.Plans) == 0 {
		return fmt.Errorf("no plans")
	}
	seen := map[string]bool{}
	for _, p := range c.Plans {
		switch {
		case p.ID == "":
			return fmt.Errorf("a plan has no id")
		case seen[p.ID]:
			return fmt.Errorf("duplicate plan id %q", p.ID)
		case p.MonthlyCredits < 0 || p.MonthlyCredits > 1<<40:
			return fmt.Errorf("plan %q: monthlyCredits %d out of range", p.ID, p.MonthlyCredits)
		case p.PriceCents < 0:
			return fmt.Errorf("plan %q: negative priceCents", p.ID)
		}
		seen[p.ID] = true
	}
	if _, ok := c.Plan(c.DefaultPlan); !ok {
		return fmt.Errorf("defaultPlan %q is not a plan", c.DefaultPlan)
	}
	if _, ok := c.Plan(c.DefaultTeamPlan); !ok {
		return fmt.Errorf("defaultTeamPlan %q is not a plan", c.DefaultTeamPlan)
	}
	for m, p := range c.Prices {
		if !slices.Contains(meters, m) {
			return fmt.Errorf("unknown meter %q in prices (known: %s)", m, strings.Join(meters, ", "))
		}
		if p.Micro < 0 || p.CPUMicro < 0 || p.MemMicro < 0 {
			return fmt.Errorf("meter %q: negative price", m)
		}
		for model, v := range p.Models {
			if v < 0 {
				return fmt.Errorf("meter %q: negative price for model %q", m, model)
			}
		}
	}
	for _, m := range meters {
		if _, ok := c.Prices[m]; !ok {
			return fmt.Errorf("no price for meter %q", m)
		}
	}
	if c.TopUps.MinCredits < 0 || c.TopUps.CentsPerCredit < 0 {
		return fmt.Errorf("topUps: negative value")
	}
	return nil
}

// Plan finds a plan by id.
func (c *Catalog) Plan(id string) (Plan, bool) {
	for _, p := range c.Plans {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

const (
	gb       = 1_000_000_000
	gib      = 1 << 30
	monthSec = 30 * 24 * 3600 // a billing GB-month is 30 days
)

// Price is what quantity of u's meter (with its Attr) costs in µcr,
// rounded up: computed over 128 bits, so no sum of usage overflows on the
// way. Negative quantities cost nothing.
func (c *Catalog) Price(u Usage) (int64, error) {
	p, ok := c.Prices[u.Meter]
	if !ok {
		return 0, fmt.Errorf("no price for meter %q", u.Meter)
	}
	if u.Quantity <= 0 {
		return 0, nil
	}
	var num, den uint64
	switch u.Meter {
	case MeterCPU: // µs × µcr/s
		num, den = uint64(p.Micro), 1_000_000
	case MeterMemory:
		num, den = uint64(p.Micro), gib
	case MeterAIIn, MeterAIOut:
		num, den = uint64(modelPrice(p, u.Attr)), 1
	case MeterFiles, MeterDatabase, MeterObjects, MeterBackups:
		num, den = uint64(p.Micro), gb*monthSec
	case MeterEgress:
		num, den = uint64(p.Micro), gb
	case MeterGPU: // ms × µcr/s, a MIG slice by its share of the GPU's compute
		share, of := migShare(u.Attr)
		num, den = uint64(p.Micro)*share, 1000*of
	case MeterInstance:
		milliCPU, mib, err := ParseSize(u.Attr)
		if err != nil {
			return 0, err
		}
		// per ms: (mCPU/1000 × cpuMicro + MiB/1024 × memMicro) / 1000
		num = uint64(milliCPU)*uint64(p.CPUMicro)*1024 + uint64(mib)*uint64(p.MemMicro)*1000
		den = 1000 * 1024 * 1000
	default:
		return 0, fmt.Errorf("unknown meter %q", u.Meter)
	}
	return mulDivUp(uint64(u.Quantity), num, den)
}

// migShare is the part of a GPU a MIG profile computes on: "3g.40gb" has 3
// of its 7 compute slices (A100, H100 and H200 have 7), "1c.3g.40gb" one of
// them; "" is the whole GPU.
func migShare(profile string) (share, of uint64) {
	if profile == "" {
		return 1, 1
	}
	end := strings.IndexFunc(profile, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(profile)
	}
	n, err := strconv.ParseUint(profile[:end], 10, 8)
	if err != nil || n == 0 || n > 7 {
		return 1, 1 // an unknown profile is priced as a whole GPU
	}
	return n, 7
}

// mulDivUp is ⌈a×b/den⌉, or an error when it does not fit an int64.
func mulDivUp(a, b, den uint64) (int64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi >= den {
		return 0, fmt.Errorf("price overflows")
	}
	q, r := bits.Div64(hi, lo, den)
	if r != 0 {
		q++
	}
	if q > 1<<63-1 {
		return 0, fmt.Errorf("price overflows")
	}
	return int64(q), nil
}

// modelPrice is the price of the longest model prefix matching model, or
// the meter's own.
func modelPrice(p MeterPrice, model string) int64 {
	best, price := -1, p.Micro
	for prefix, v := range p.Models {
		if strings.HasPrefix(model, prefix) && len(prefix) > best {
			best, price = len(prefix), v
		}
	}
	return price
}

// ParseSize reads a deployment size "<cpus>cpu-<MiB>mib" ("0.5cpu-512mib").
func ParseSize(s string) (milliCPU, mib int64, err error) {
	cpu, mem, ok := strings.Cut(strings.ToLower(s), "cpu-")
	if !ok || !strings.HasSuffix(mem, "mib") {
		return 0, 0, fmt.Errorf("deployment size %q is not <cpus>cpu-<MiB>mib", s)
	}
	f, err := strconv.ParseFloat(cpu, 64)
	if err != nil || f <= 0 || f > 1024 {
		return 0, 0, fmt.Errorf("deployment size %q: bad CPU count", s)
	}
	mib, err = strconv.ParseInt(strings.TrimSuffix(mem, "mib"), 10, 64)
	if err != nil || mib <= 0 || mib > 1<<24 {
		return 0, 0, fmt.Errorf("deployment size %q: bad memory", s)
	}
	return int64(f*1000 + 0.5), mib, nil
}
