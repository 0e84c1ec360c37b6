package team

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/httpx"
	"ecode/internal/project"
	"ecode/internal/store"
)

// maxAllowlist bounds a team's allowlist: each request is checked against
// every entry.
const maxAllowlist = 200

// ParseAllowlist reads networks (CIDRs) and single addresses, IPv4 or
// IPv6, one per entry; blank entries are skipped, duplicates dropped.
func ParseAllowlist(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil || a.Zone() != "" {
				return nil, errs.Invalid("invalid_cidr", "%q is not an address or a network like 203.0.113.0/24 or 2001:db8::/32.", e)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		if p = p.Masked(); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) > maxAllowlist {
		return nil, errs.Invalid("invalid_cidr", "An allowlist holds at most %d networks.", maxAllowlist)
	}
	return out, nil
}

func allows(list []netip.Prefix, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.WithZone("").Unmap()
	return slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Contains(a) })
}

func texts(list []netip.Prefix) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.String()
	}
	return out
}

// allowlists remembers each team's allowlist for a moment: every request
// to a team's project (each preview asset among them) asks.
type allowlists struct {
	mu    sync.Mutex
	cache map[string]cachedList
}

type cachedList struct {
	name string
	list []netip.Prefix
	at   time.Time
}

const allowlistTTL = 2 * time.Second

func (a *allowlists) forget(teamID string) {
	a.mu.Lock()
	delete(a.cache, teamID)
	a.mu.Unlock()
}

func (s *Service) allowlist(ctx context.Context, teamID string) (cachedList, error) {
	s.allow.mu.Lock()
	c, ok := s.allow.cache[teamID]
	s.allow.mu.Unlock()
	if ok && time.Since(c.at) < allowlistTTL {
		return c, nil
	}
	var row struct {
		Name      string `db:"username"`
		Allowlist string `db:"allowlist"`
	}
	err := s.db.Get(ctx, &row, `SELECT u.username, t.allowlist FROM teams t JOIN users u ON u.id = t.id WHERE t.id = ?`, teamID)
	if err != nil {
		return c, fmt.Errorf("read the allowlist of team %s: %w", teamID, err)
	}
	var entries []string
	if err := json.Unmarshal([]byte(row.Allowlist), &entries); err != nil {
		return c, fmt.Errorf("read the allowlist of team %s: %w", row.Name, err)
	}
	list, err := ParseAllowlist(entries)
	if err != nil {
		return c, fmt.Errorf("read the allowlist of team %s: %w", row.Name, err)
	}
	c = cachedList{name: row.Name, list: list, at: time.Now()}
	s.allow.mu.Lock()
	if len(s.allow.cache) > 10000 {
		clear(s.allow.cache)
	}
	s.allow.cache[teamID] = c
	s.allow.mu.Unlock()
	return c, nil
}

// Admit refuses the request in ctx when team teamID has an allowlist
// and the request's address is not on it. The address is the client's as
// Observe found it: X-Forwarded-For counts only from trusted proxies.
// Work the platform does on its own (no request) is not refused.
func (s *Service) Admit(ctx context.Context, teamID string) error {
	ip := httpx.ClientFrom(ctx).IP
	if ip == "" {
		return nil
	}
	c, err := s.allowlist(ctx, teamID)
	if err != nil {
		return err
	}
	if len(c.list) == 0 || allows(c.list, ip) {
		return nil
	}
	return errs.Forbidden("ip_not_allowed",
		"Your address %s is not on the allowlist of team %s: connect from one of its networks, or ask a team admin to add yours.", ip, c.name)
}

// Allowlist is a team's allowlist with the caller's address.
type Allowlist struct {
	Allowlist []string `json:"allowlist"`
	YourIP    string   `json:"yourIp"`
}

// Allowlist returns a team's allowlist, for its admins.
func (s *Service) Allowlist(ctx context.Context, actor *auth.User, name string) (*Allowlist, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	s.allow.forget(t.ID)
	c, err := s.allowlist(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return &Allowlist{Allowlist: texts(c.list), YourIP: httpx.ClientFrom(ctx).IP}, nil
}

// SetAllowlist replaces a team's allowlist; an empty one lets every
// address in. A list that would shut the caller out is refused unless
// confirm says they mean it.
func (s *Service) SetAllowlist(ctx context.Context, actor *auth.User, name string, entries []string, confirm bool) (*Allowlist, error) {
	t, err := s.authorize(ctx, actor, name, access.ManageTeam)
	if err != nil {
		return nil, err
	}
	list, err := ParseAllowlist(entries)
	if err != nil {
		return nil, err
	}
	ip := httpx.ClientFrom(ctx).IP
	if len(list) > 0 && ip != "" && !allows(list, ip) && !confirm {
		return nil, errs.Conflict("would_lock_out",
			"Your address %s is not in this list: saving it would cut you off from team %s. Add your address, or confirm to save anyway.", ip, t.Name)
	}
	before, err := s.allowlist(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	text, _ := json.Marshal(texts(list))
	if _, err := s.db.Exec(ctx, `UPDATE teams SET allowlist = ? WHERE id = ?`, string(text), t.ID); err != nil {
		return nil, fmt.Errorf("save allowlist: %w", err)
	}
	s.allow.forget(t.ID)
	s.eachProject(ctx, t.ID, func(id string) { events.Publish(ctx, s.bus, project.AdmissionChanged{ProjectID: id}) })
	s.audit.RecordIn(ctx, t.ID, actor.AuditActor(), "team.allowlist", audit.Target("team", t.ID),
		map[string]any{"from": texts(before.list), "to": texts(list), "lockedOut": len(list) > 0 && !allows(list, ip)})
	return &Allowlist{Allowlist: texts(list), YourIP: ip}, nil
}

// ClearAllowlist lets every address into team name again: the operator's
// way back in for a team that shut itself out.
func (s *Service) ClearAllowlist(ctx context.Context, name string) error {
	var id string
	err := s.db.Get(ctx, &id, `SELECT id FROM users WHERE username = ? AND kind = 'team'`, strings.ToLower(name))
	if store.NoRows(err) {
		return errs.NotFound("not_found", "No team called %q.", name)
	}
	if err != nil {
		return fmt.Errorf("find team: %w", err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE teams SET allowlist = '[]' WHERE id = ?`, id); err != nil {
		return fmt.Errorf("clear allowlist: %w", err)
	}
	s.allow.forget(id)
	s.audit.RecordIn(ctx, id, audit.Actor{}, "team.allowlist.clear", audit.Target("team", id), nil)
	return nil
}
