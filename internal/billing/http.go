package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

// Routes registers billing's routes.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/billing", s.summary)
	rt.HandleFunc("GET /api/billing/plans", s.plans)
	rt.HandleFunc("GET /api/billing/usage", s.usage)
	rt.HandleFunc("GET /api/billing/statement.csv", s.statement)
	rt.HandleFunc("GET /api/billing/transactions", s.transactions)
	rt.HandleFunc("POST /api/admin/billing/grants", s.adminGrant)
	rt.HandleFunc("GET /api/admin/billing/reconcile", s.reconcile)
}

var errNotTeamAdmin = errs.Forbidden("forbidden", "Only the team's admins and owners can see its billing.")

// PayerFor is the account r asks about: ?team=<name> (its admins and
// owners only) or the caller's own.
func (s *Service) PayerFor(r *http.Request) (string, error) {
	u := auth.Actor(r)
	if u == nil {
		return "", auth.ErrUnauthenticated
	}
	name := r.URL.Query().Get("team")
	if name == "" {
		return UserPayer(u.ID), nil
	}
	return s.teamPayer(r.Context(), u, name)
}

// Payer is PayerFor with the team given apart, and the email Stripe sends
// receipts to (the caller's): stripebill.Payers.
func (s *Service) Payer(r *http.Request, team string) (payer, email string, err error) {
	u := auth.Actor(r)
	if u == nil {
		return "", "", auth.ErrUnauthenticated
	}
	payer = UserPayer(u.ID)
	if team != "" {
		if payer, err = s.teamPayer(r.Context(), u, team); err != nil {
			return "", "", err
		}
	}
	return payer, u.Email, nil
}

func (s *Service) teamPayer(ctx context.Context, u *auth.User, name string) (string, error) {
	id, err := s.people.TeamByName(ctx, name)
	if errs.Is(err, errs.KindNotFound) {
		return "", errNotTeamAdmin
	}
	if err != nil {
		return "", fmt.Errorf("team %s: %w", name, err)
	}
	role, err := s.people.TeamRole(ctx, id, u.ID)
	if err != nil && !errs.Is(err, errs.KindNotFound) && !errs.Is(err, errs.KindForbidden) {
		return "", fmt.Errorf("role in team %s: %w", name, err)
	}
	if role != access.TeamAdmin && role != access.TeamOwner {
		return "", errNotTeamAdmin
	}
	return TeamPayer(id), nil
}

func (s *Service) summary(w http.ResponseWriter, r *http.Request) {
	payer, err := s.PayerFor(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	sum, err := s.Summary(r.Context(), payer)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"billing": sum}, err)
}

// priceView is one meter's price on the plans page.
type priceView struct {
	Meter    string           `json:"meter"`
	Category string           `json:"category"`
	Unit     string           `json:"unit"`
	Micro    int64            `json:"micro"`
	Models   map[string]int64 `json:"models,omitempty"`
	CPUMicro int64            `json:"cpuMicro,omitempty"`
	MemMicro int64            `json:"memMicro,omitempty"`
}

func (s *Service) plans(w http.ResponseWriter, r *http.Request) {
	if auth.Actor(r) == nil {
		httpx.Error(w, r, auth.ErrUnauthenticated)
		return
	}
	prices := make([]priceView, 0, len(meters))
	for _, m := range meters {
		p := s.cat.Prices[m]
		prices = append(prices, priceView{Meter: m, Category: Category(m), Unit: p.Unit, Micro: p.Micro,
			Models: p.Models, CPUMicro: p.CPUMicro, MemMicro: p.MemMicro})
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"plans": s.cat.Plans, "topUps": s.cat.TopUps, "prices": prices})
}

// window reads from/to (unix ms) with the payer's current period as the
// default.
func (s *Service) window(ctx context.Context, r *http.Request, payer string) (time.Time, time.Time, error) {
	sum, err := s.Summary(ctx, payer)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, to := sum.Period.Start, sum.Period.End
	for name, dst := range map[string]*int64{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return time.Time{}, time.Time{}, errs.Invalid("invalid_window", "%s must be a time in unix milliseconds.", name)
			}
			*dst = n
		}
	}
	if to <= from {
		return time.Time{}, time.Time{}, errs.Invalid("invalid_window", "from must come before to.")
	}
	return time.UnixMilli(from), time.UnixMilli(to), nil
}

func (s *Service) usage(w http.ResponseWriter, r *http.Request) {
	payer, err := s.PayerFor(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	from, to, err := s.window(r.Context(), r, payer)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	rows, err := s.Usage(r.Context(), payer, from, to)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"usage": map[string]any{
		"from": from.UnixMilli(), "to": to.UnixMilli(), "rows": rows}}, err)
}

func (s *Service) statement(w http.ResponseWriter, r *http.Request) {
	payer, err := s.PayerFor(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var from, to time.Time
	name := "current"
	if p := r.URL.Query().Get("period"); p != "" {
		m, err := time.Parse("2006-01", p)
		if err != nil {
			httpx.Error(w, r, errs.Invalid("invalid_period", "period is a month: YYYY-MM."))
			return
		}
		from, to, name = m, m.AddDate(0, 1, 0), p
	} else if from, to, err = s.window(r.Context(), r, payer); err != nil {
		httpx.Error(w, r, err)
		return
	}
	// Written to a buffer first, so a failure is still an error answer.
	var b strings.Builder
	if err := s.Statement(r.Context(), &b, payer, from, to); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ecode-statement-%s.csv"`, name))
	_, _ = w.Write([]byte(b.String()))
}

func (s *Service) transactions(w http.ResponseWriter, r *http.Request) {
	payer, err := s.PayerFor(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			httpx.Error(w, r, errs.Invalid("invalid_limit", "limit is a number from 1 to 500."))
			return
		}
	}
	var skip []string
	switch r.URL.Query().Get("usage") {
	case "", "true":
	case "false":
		skip = append(skip, "usage")
	default:
		httpx.Error(w, r, errs.Invalid("invalid_usage", "usage is true (the default: usage charges listed too) or false."))
		return
	}
	ts, err := s.Transactions(r.Context(), payer, r.URL.Query().Get("before"), limit, skip...)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"transactions": ts}, err)
}

func requireAdmin(r *http.Request) (*auth.User, error) {
	u := auth.Actor(r)
	if u == nil {
		return nil, auth.ErrUnauthenticated
	}
	if !u.IsAdmin {
		return nil, auth.ErrNotAdmin
	}
	return u, nil
}

func (s *Service) adminGrant(w http.ResponseWriter, r *http.Request) {
	u, err := requireAdmin(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in struct {
		User    string      `json:"user"`
		Team    string      `json:"team"`
		Credits json.Number `json:"credits"`
		Reason  string      `json:"reason"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := s.GrantTo(r.Context(), in.User, in.Team, in.Credits.String(), in.Reason, u.Username)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"transfer": t}, err)
}

// GrantTo grants credits (a decimal number, as a person writes it) to the
// person user or the team team, whichever is named, for reason; by is the
// administrator, for the log. The admin route and `ecode admin
// grant-credits` both come here.
func (s *Service) GrantTo(ctx context.Context, user, team, credits, reason, by string) (ledger.Transfer, error) {
	amount, err := ParseCredits(credits)
	if err != nil {
		return ledger.Transfer{}, err
	}
	var payer, id string
	switch {
	case (user == "") == (team == ""):
		return ledger.Transfer{}, errs.Invalid("invalid_grant", "Name either a user or a team.")
	case user != "":
		id, err = s.people.UserByName(ctx, user)
		payer = UserPayer(id)
	default:
		id, err = s.people.TeamByName(ctx, team)
		payer = TeamPayer(id)
	}
	if err != nil {
		return ledger.Transfer{}, err
	}
	memo := strings.TrimSpace(reason)
	if memo == "" {
		memo = "Granted by an administrator"
	}
	if len(memo) > 500 {
		return ledger.Transfer{}, errs.Invalid("invalid_grant", "The reason is at most 500 characters.")
	}
	t, err := s.Grant(ctx, payer, amount, "admin:"+store.NewID(), memo)
	if err != nil {
		return ledger.Transfer{}, err
	}
	slog.Info("billing: credits granted", "admin", by, "payer", payer, "micro", amount, "reason", memo)
	return t, nil
}

func (s *Service) reconcile(w http.ResponseWriter, r *http.Request) {
	if _, err := requireAdmin(r); err != nil {
		httpx.Error(w, r, err)
		return
	}
	rep, err := s.Reconcile(r.Context())
	httpx.Reply(w, r, http.StatusOK, map[string]any{"report": rep}, err)
}

// ParseCredits reads a positive number of credits with up to six
// decimals ("12", "0.5") as µcr, without floating point.
func ParseCredits(s string) (int64, error) {
	bad := errs.Invalid("invalid_credits", "credits must be a positive number with up to 6 decimals, not %q.", s)
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(frac) > 6 || len(whole) > 12 || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	var f int64
	if frac != "" {
		f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil || strings.ContainsAny(frac, "+-") {
			return 0, bad
		}
	}
	amount := w*ledger.Micro + f
	if amount <= 0 {
		return 0, bad
	}
	return amount, nil
}
