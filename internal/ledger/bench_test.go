package ledger_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ecode/internal/ledger"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// benchLedger is a ledger on a fresh database of engine e with 100 payers
// holding plenty of credits.
func benchLedger(b *testing.B, e testdb.Engine) (*store.DB, *ledger.Ledger) {
	db := testdb.Open(b, e)
	l := ledger.New(db)
	for i := range 100 {
		if _, _, err := l.Post(context.Background(), ledger.Transfer{Key: fmt.Sprintf("seed:%d", i), Debit: ledger.TopUps,
			Credit: ledger.Account(fmt.Sprintf("user:b%d", i)), Amount: 1 << 50, Kind: "topup"}, ledger.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	return db, l
}

func usage(n int64) ledger.Transfer {
	return ledger.Transfer{Key: fmt.Sprintf("use:%d", n), Debit: ledger.Account(fmt.Sprintf("user:b%d", n%100)),
		Credit: ledger.Consumption, Amount: 1 + n%997, Kind: "usage"}
}

func postingsPerSecond(b *testing.B, postings int) {
	b.ReportMetric(float64(postings)/b.Elapsed().Seconds(), "postings/s")
}

// BenchmarkPost: one guarded posting per transaction, from one caller and
// from eight at once.
func BenchmarkPost(b *testing.B) {
	for _, e := range testdb.Engines(b) {
		_, l := benchLedger(b, e)
		var n atomic.Int64
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, _, err := l.Post(ctx, usage(n.Add(1)), ledger.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			postingsPerSecond(b, b.N)
		})
		b.Run(e.Name+"/parallel8", func(b *testing.B) {
			ctx := context.Background()
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // about 8 callers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := l.Post(ctx, usage(n.Add(1)), ledger.Options{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			postingsPerSecond(b, b.N)
		})
		checkBench(b, l)
	}
}

// BenchmarkPostBatch: 100 guarded postings per transaction, the rating
// job's shape, by Post one at a time and by PostBatch; an op is one batch.
func BenchmarkPostBatch(b *testing.B) {
	for _, e := range testdb.Engines(b) {
		db, l := benchLedger(b, e)
		var n int64
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				err := db.Tx(ctx, func(q store.Q) error {
					for range 100 {
						n++
						if _, _, err := ledger.Post(ctx, q, usage(n), ledger.Options{}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			postingsPerSecond(b, 100*b.N)
		})
		b.Run(e.Name+"/PostBatch", func(b *testing.B) {
			ctx := context.Background()
			ts := make([]ledger.Transfer, 100)
			for b.Loop() {
				for i := range ts {
					n++
					ts[i] = usage(n)
				}
				err := db.Tx(ctx, func(q store.Q) error {
					_, _, err := ledger.PostBatch(ctx, q, ts, ledger.Options{})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			postingsPerSecond(b, 100*b.N)
		})
		checkBench(b, l)
	}
}

// BenchmarkBalance reads a balance with a million transfers in the table,
// and the newest page of a statement.
func BenchmarkBalance(b *testing.B) {
	const transfers, accounts = 1_000_000, 1000
	for _, e := range testdb.Engines(b) {
		db := testdb.Open(b, e)
		l := ledger.New(db)
		ctx := context.Background()
		start := time.Now()
		if err := bulkLoad(ctx, db, transfers, accounts); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d transfers loaded in %v", e.Name, transfers, time.Since(start).Round(time.Millisecond))
		start = time.Now()
		checkBench(b, l)
		b.Logf("%s: reconciled %d transfers in %v", e.Name, transfers, time.Since(start).Round(time.Millisecond))
		b.Run(e.Name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				a := ledger.Account(fmt.Sprintf("user:b%d", i%accounts))
				bal, err := l.Balance(ctx, a)
				if err != nil || bal.CreditsPosted == 0 {
					b.Fatalf("balance %s: %+v %v", a, bal, err)
				}
			}
		})
		b.Run(e.Name+"/statement", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				list, err := l.Transfers(ctx, ledger.Account(fmt.Sprintf("user:b%d", i%accounts)), "", 50)
				if err != nil || len(list) != 50 {
					b.Fatalf("statement: %d %v", len(list), err)
				}
			}
		})
	}
}

// bulkLoad writes n transfers among accounts payers (a top-up then a usage
// charge, alternately) with one INSERT ... SELECT over a generated series,
// then sets the balance rows to match. Ids and keys are fixed-width and
// rising, so their indexes are appended to rather than split at random.
// The statement indexes are dropped for the load and built again after it
// (a sort, not a million inserts), from their definitions in the catalog.
func bulkLoad(ctx context.Context, db *store.DB, n, accounts int) error {
	return db.Tx(ctx, func(q store.Q) error {
		names := []string{"ledger_transfers_debit", "ledger_transfers_credit"}
		defs := make([]string, len(names))
		for i, name := range names {
			query := `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`
			if db.Dialect == store.Postgres {
				query = `SELECT indexdef FROM pg_indexes WHERE indexname = ? AND schemaname = current_schema()`
			}
			if err := q.Get(ctx, &defs[i], query, name); err != nil {
				return fmt.Errorf("index %s: %w", name, err)
			}
			if _, err := q.Exec(ctx, `DROP INDEX `+name); err != nil {
				return fmt.Errorf("drop index %s: %w", name, err)
			}
		}
		series := `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?) `
		if db.Dialect == store.Postgres {
			series = `WITH c(n) AS (SELECT CAST(g AS BIGINT) FROM generate_series(1, CAST(? AS BIGINT)) g) `
		}
		if _, err := q.Exec(ctx, series+`INSERT INTO ledger_transfers (id, idem_key, debit_account, credit_account, amount, kind, status, pending_id, expires_at, memo, created_at)
			SELECT '00bulk' || CAST(n + 10000000 AS TEXT), 'bulk:' || CAST(n + 10000000 AS TEXT),
				CASE WHEN n % 2 = 0 THEN 'system:topups' ELSE 'credits:user:b' || CAST((n / 2) % ? AS TEXT) END,
				CASE WHEN n % 2 = 0 THEN 'credits:user:b' || CAST((n / 2) % ? AS TEXT) ELSE 'system:consumption' END,
				CASE WHEN n % 2 = 0 THEN 1000 ELSE 1 + n % 500 END,
				CASE WHEN n % 2 = 0 THEN 'topup' ELSE 'usage' END, 'posted', '', 0, '', n
			FROM c`, n, accounts, accounts); err != nil {
			return fmt.Errorf("bulk transfers: %w", err)
		}
		for _, def := range defs {
			if _, err := q.Exec(ctx, def); err != nil {
				return fmt.Errorf("%s: %w", def, err)
			}
		}
		if _, err := q.Exec(ctx, `INSERT INTO ledger_balances (account, debits_posted, credits_posted, debits_pending, credits_pending)
			SELECT account, SUM(d), SUM(c), 0, 0 FROM (
				SELECT debit_account AS account, amount AS d, 0 AS c FROM ledger_transfers
				UNION ALL SELECT credit_account, 0, amount FROM ledger_transfers) x
			GROUP BY account`); err != nil {
			return fmt.Errorf("bulk balances: %w", err)
		}
		return nil
	})
}

func checkBench(b *testing.B, l *ledger.Ledger) {
	b.Helper()
	r, err := l.Reconcile(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if !r.OK() {
		b.Fatalf("reconcile: %v", r.Problems)
	}
}
