package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/ledger"
	"ecode/internal/store"
)

// recordChunk rows go in one INSERT (11 parameters each).
const recordChunk = 200

// Record stores usage for rating. Each event's payer is its project's
// owner now; an event whose Key was seen before is ignored, so sources may
// retry freely. Events of a project that no longer exists are dropped.
func (s *Service) Record(ctx context.Context, us ...Usage) error {
	payers := map[string]string{}
	type row struct {
		u     Usage
		payer string
	}
	rows := make([]row, 0, len(us))
	for _, u := range us {
		if err := s.checkUsage(u); err != nil {
			return err
		}
		payer, ok := payers[u.ProjectID]
		if !ok {
			p, err := s.payerOf(ctx, u.ProjectID)
			if errs.Is(err, errs.KindNotFound) {
				slog.Warn("usage of a project that is gone, dropped", "project", u.ProjectID, "key", u.Key)
				payers[u.ProjectID] = ""
				continue
			}
			if err != nil {
				return fmt.Errorf("record usage: %w", err)
			}
			payer, payers[u.ProjectID] = p, p
		}
		if payer == "" {
			continue
		}
		if u.At.IsZero() {
			u.At = s.now()
		}
		rows = append(rows, row{u, payer})
	}
	for chunk := range slices.Chunk(rows, recordChunk) {
		var b strings.Builder
		b.WriteString(`INSERT INTO usage_events (id, idem_key, meter, attr, quantity, project_id, user_id, payer, hold_key, at, charge_id) VALUES `)
		args := make([]any, 0, len(chunk)*10)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)")
			args = append(args, store.NewID(), r.u.Key, r.u.Meter, r.u.Attr, r.u.Quantity, r.u.ProjectID,
				r.u.UserID, r.payer, r.u.Hold, r.u.At.UnixMilli())
		}
		b.WriteString(` ON CONFLICT (idem_key) DO NOTHING`)
		if _, err := s.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("record usage: %w", err)
		}
	}
	return nil
}

func (s *Service) checkUsage(u Usage) error {
	switch {
	case u.Key == "" || len(u.Key) > 512:
		return errs.Invalid("invalid_usage", "A usage event needs a key of up to 512 bytes.")
	case u.ProjectID == "":
		return errs.Invalid("invalid_usage", "Usage %s names no project.", u.Key)
	case u.Quantity < 0:
		return errs.Invalid("invalid_usage", "Usage %s has a negative quantity.", u.Key)
	case Category(u.Meter) == "":
		return errs.Invalid("invalid_usage", "Usage %s has an unknown meter %q.", u.Key, u.Meter)
	}
	if _, err := s.cat.Price(Usage{Meter: u.Meter, Attr: u.Attr, Quantity: 1}); err != nil {
		return errs.Invalid("invalid_usage", "Usage %s: %v.", u.Key, err)
	}
	return nil
}

// event is a usage_events row as rating reads it.
type event struct {
	ID        string `db:"id"`
	Meter     string `db:"meter"`
	Attr      string `db:"attr"`
	Quantity  int64  `db:"quantity"`
	ProjectID string `db:"project_id"`
	UserID    string `db:"user_id"`
	Payer     string `db:"payer"`
	HoldKey   string `db:"hold_key"`
	At        int64  `db:"at"`
	Waived    int    `db:"waived"`
}

// group is the events rated together: one payer, project, person, meter,
// attribute and day.
type group struct {
	Payer, ProjectID, UserID, Meter, Attr, Day string
	Quantity                                   int64
	IDs                                        []string
	Waived                                     bool
}

// groupEvents groups events (ordered by id) in the order of their first.
func groupEvents(evs []event) []*group {
	var out []*group
	by := map[string]*group{}
	for _, e := range evs {
		day := time.UnixMilli(e.At).UTC().Format(time.DateOnly)
		k := strings.Join([]string{e.Payer, e.ProjectID, e.UserID, e.Meter, e.Attr, day, fmt.Sprint(e.Waived)}, "\x00")
		g := by[k]
		// A sum that would overflow starts a group of its own.
		if g == nil || g.Quantity > 1<<62-e.Quantity {
			g = &group{Payer: e.Payer, ProjectID: e.ProjectID, UserID: e.UserID, Meter: e.Meter, Attr: e.Attr,
				Day: day, Waived: e.Waived != 0}
			by[k] = g
			out = append(out, g)
		}
		g.Quantity += e.Quantity
		g.IDs = append(g.IDs, e.ID)
	}
	return out
}

func (s *Service) priceGroup(g *group) (int64, error) {
	if g.Waived {
		return 0, nil
	}
	amount, err := s.cat.Price(Usage{Meter: g.Meter, Attr: g.Attr, Quantity: g.Quantity})
	if err != nil {
		return 0, fmt.Errorf("price %s of %s: %w", g.Meter, g.ProjectID, err)
	}
	return amount, nil
}

// writeCharge records what group g was charged (amount, through transfer
// transferID or none) and marks its events, which must all still be
// unrated: another pass that got there first makes this one fail whole.
func writeCharge(ctx context.Context, q store.Q, g *group, amount int64, transferID string, at int64) error {
	id := store.NewID()
	if _, err := q.Exec(ctx, `INSERT INTO usage_charges (id, transfer_id, payer, project_id, user_id, meter, attr, quantity, amount, day, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, transferID, g.Payer, g.ProjectID, g.UserID, g.Meter, g.Attr,
		g.Quantity, amount, g.Day, at); err != nil {
		return fmt.Errorf("record charge: %w", err)
	}
	args := make([]any, 0, len(g.IDs)+1)
	args = append(args, id)
	for _, e := range g.IDs {
		args = append(args, e)
	}
	n, err := q.Exec(ctx, `UPDATE usage_events SET charge_id = ? WHERE charge_id IS NULL AND id IN (?`+
		strings.Repeat(", ?", len(g.IDs)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("mark usage rated: %w", err)
	}
	if n != int64(len(g.IDs)) {
		return errRatedMeanwhile
	}
	return nil
}

var errRatedMeanwhile = fmt.Errorf("usage was rated meanwhile")

// RateNow runs rating passes until no unrated usage is left that may be
// charged, and returns how many events it rated.
func (s *Service) RateNow(ctx context.Context) (int, error) {
	n, _, err := s.rateAll(ctx)
	return n, err
}

// A pass that lost a race to another (the periodic rater, or a second
// replica) rolled back whole; the winner committed, so the next pass reads
// what is left.
func (s *Service) rateAll(ctx context.Context) (int, map[string]bool, error) {
	total, payers, lost := 0, map[string]bool{}, 0
	for {
		n, err := s.ratePass(ctx, payers)
		if errors.Is(err, errRatedMeanwhile) && lost < maxLostRaces {
			lost++
			continue
		}
		total += n
		if err != nil || n < rateBatch {
			return total, payers, err
		}
	}
}

// maxLostRaces bounds the retries of one rateAll against other raters.
const maxLostRaces = 8

// ratePass rates up to rateBatch events in one transaction: each group's
// debit, its charge row and its events' marks commit together or not at
// all. Events of a pending hold wait for it to settle.
func (s *Service) ratePass(ctx context.Context, payers map[string]bool) (int, error) {
	now := s.now().UnixMilli()
	var n int
	err := s.db.Tx(ctx, func(q store.Q) error {
		var evs []event
		if err := q.Select(ctx, &evs, `SELECT e.id, e.meter, e.attr, e.quantity, e.project_id, e.user_id, e.payer, e.hold_key, e.at,
			CASE WHEN h.status = 'waived' THEN 1 ELSE 0 END AS waived
			FROM usage_events e LEFT JOIN billing_holds h ON e.hold_key <> '' AND h.hold_key = e.hold_key
			WHERE e.charge_id IS NULL AND (h.hold_key IS NULL OR h.status <> 'pending' OR h.expires_at <= ?)
			ORDER BY e.id LIMIT ?`, now, rateBatch); err != nil {
			return fmt.Errorf("read unrated usage: %w", err)
		}
		n = len(evs)
		seen := map[string]bool{}
		groups := groupEvents(evs)
		amounts := make([]int64, len(groups))
		var debits []ledger.Transfer
		for i, g := range groups {
			if !seen[g.Payer] {
				if _, err := s.ensureAccount(ctx, q, g.Payer); err != nil {
					return err
				}
				seen[g.Payer] = true
			}
			amount, err := s.priceGroup(g)
			if err != nil {
				return err
			}
			amounts[i] = amount
			if amount > 0 {
				debits = append(debits, ledger.Transfer{
					Key:   fmt.Sprintf("rate:%s:%d", g.IDs[0], len(g.IDs)),
					Debit: ledger.Account(g.Payer), Credit: ledger.Consumption, Amount: amount, Kind: "usage",
					Memo: g.Meter + " " + g.Day,
				})
			}
		}
		// One batch: an insert for the transfers and an update per account
		// touched, where a post each would update system:consumption each time.
		posted, _, err := ledger.PostBatch(ctx, q, debits, ledger.Options{AllowOverdraft: true})
		if err != nil {
			return fmt.Errorf("charge usage: %w", err)
		}
		if s.failPost != nil && len(posted) > 0 {
			if err := s.failPost(); err != nil {
				return err
			}
		}
		for i, g := range groups {
			var transferID string
			if amounts[i] > 0 {
				transferID, posted = posted[0].ID, posted[1:]
			}
			if err := writeCharge(ctx, q, g, amounts[i], transferID, now); err != nil {
				return err
			}
		}
		for p := range seen {
			payers[p] = true
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rate usage: %w", err)
	}
	return n, nil
}
