package gpu

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"ecode/internal/errs"
)

// The wants a person can choose in settings, as stored and sent: any unit,
// a whole GPU, or a MIG slice of one profile ("mig-1g.10gb").
const (
	WantAny   = "any"
	WantWhole = "whole"
	migPrefix = "mig-"
)

// ParseWant reads a stored or sent want. "" is no GPU: ok is false.
func ParseWant(s string) (w Want, ok bool, err error) {
	switch {
	case s == "":
		return Want{}, false, nil
	case s == WantAny:
		return Want{}, true, nil
	case s == WantWhole:
		return Want{Whole: true}, true, nil
	case strings.HasPrefix(s, migPrefix) && simProfile.MatchString(s[len(migPrefix):]):
		return Want{Profile: s[len(migPrefix):]}, true, nil
	}
	return Want{}, false, errs.Invalid("gpu_want_invalid", "%q is not a GPU choice: use %q, %q or %q followed by a MIG profile such as 1g.10gb", s, WantAny, WantWhole, migPrefix)
}

// Key is the want as ParseWant reads it; its memory floor is not kept.
func (w Want) Key() string {
	switch {
	case w.Profile != "":
		return migPrefix + w.Profile
	case w.Whole:
		return WantWhole
	}
	return WantAny
}

// Kind is one want a project may choose, with its label for settings.
type Kind struct {
	Want  string `json:"want"`
	Label string `json:"label"`
}

// Offer is what a project may ask for here: the kinds, or why none.
type Offer struct {
	Kinds     []Kind `json:"kinds"`
	Reason    string `json:"reason,omitempty"`
	Simulated bool   `json:"simulated"`
}

// NoGPU is the offer of a server without GPUs, saying why.
func NoGPU(why string) Offer {
	return Offer{Kinds: []Kind{}, Reason: "This server has no GPU: " + why}
}

// Offer lists the wants some usable unit of the pool can serve: any GPU,
// a whole GPU when one is not in MIG mode, and each MIG profile.
func (p *Pool) Offer() Offer {
	if p == nil {
		return NoGPU("GPUs are turned off (ECODE_GPUS=off).")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var whole, profiles []Unit
	for _, s := range p.slots {
		switch {
		case s.unit.Problem != "":
		case s.unit.Profile == "":
			whole = append(whole, s.unit)
		default:
			profiles = append(profiles, s.unit)
		}
	}
	if len(whole)+len(profiles) == 0 {
		why := p.reason
		if why == "" {
			why = "every GPU here has a problem; an administrator can see which on the monitoring page."
		}
		return Offer{Kinds: []Kind{}, Reason: "This server has no GPU: " + why, Simulated: p.simulated}
	}
	o := Offer{Kinds: []Kind{{Want: WantAny, Label: "Any GPU"}}, Simulated: p.simulated}
	if len(whole) > 0 {
		o.Kinds = append(o.Kinds, Kind{Want: WantWhole, Label: "A whole GPU (" + describe(whole) + ")"})
	}
	slices.SortStableFunc(profiles, func(a, b Unit) int { return a.MemoryMiB - b.MemoryMiB })
	seen := map[string]bool{}
	for _, u := range profiles {
		if !seen[u.Profile] {
			seen[u.Profile] = true
			o.Kinds = append(o.Kinds, Kind{Want: migPrefix + u.Profile, Label: fmt.Sprintf("MIG slice %s (%d MiB)", u.Profile, u.MemoryMiB)})
		}
	}
	return o
}

// Possible fails, as Acquire would at once, when no usable unit could ever
// serve want: settings refuse such a choice before any sandbox asks.
func (p *Pool) Possible(want Want) error {
	if p == nil {
		return errs.Unavailable("gpu_unavailable", "This server has no GPU: GPUs are turned off (ECODE_GPUS=off).")
	}
	if err := want.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.possible(want)
}

// Simulated says whether the pool's GPUs are simulated ones.
func (p *Pool) Simulated() bool { return p.simulated }

// Follow calls tell with owner's place in line each time it changes, until
// ctx ends: the wait message of a run or an instance start.
func (p *Pool) Follow(ctx context.Context, owner string, tell func(Position)) {
	var last Position
	for {
		changed := p.Changed()
		if pos, ok := p.Queue(owner); ok && pos != last {
			last = pos
			tell(pos)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
