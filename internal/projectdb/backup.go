package projectdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Kinds of backup: made on request, by the daily schedule, before a restore
// or a copy into the database (the undo of either), or uploaded from
// elsewhere.
const (
	kindManual     = "manual"
	kindDaily      = "daily"
	kindPreRestore = "pre-restore"
	kindPreCopy    = "pre-copy"
	kindUpload     = "upload"
)

// A backup's status.
const (
	statusRunning = "running"
	statusDone    = "done"
	statusFailed  = "failed"
)

const (
	keepDaily  = 7  // daily backups kept per database
	keepOther  = 20 // backups of each other kind kept per database
	dailyEvery = 24 * time.Hour
	maxUpload  = 1 << 30 // bytes of a dump uploaded to restore from
	// dumpMagic starts every file in pg_dump's custom format.
	dumpMagic = "PGDMP"
)

const backupColumns = `id, project_id, env, kind, status, error, size_bytes, created_by, created_at, took_ms`

// Backup is one dump of an environment's database, in pg_dump's custom
// format.
type Backup struct {
	ID        string `json:"id" db:"id"`
	ProjectID string `json:"-" db:"project_id"`
	Env       string `json:"env" db:"env"`
	Kind      string `json:"kind" db:"kind"`
	Status    string `json:"status" db:"status"`
	Error     string `json:"error" db:"error"`
	SizeBytes int64  `json:"sizeBytes" db:"size_bytes"`
	CreatedBy string `json:"createdBy" db:"created_by"`
	CreatedAt int64  `json:"createdAt" db:"created_at"`
	TookMs    int64  `json:"tookMs" db:"took_ms"`
}

// Restored is what a restore did: the backup restored, and the backup of
// what was there before, whose restore undoes it.
type Restored struct {
	Backup Backup `json:"backup"`
	Undo   Backup `json:"undo"`
}

// backupRoutes registers backups and restores.
func (s *Service) backupRoutes(rt *httpx.Router) {
	const base = "/api/projects/{id}/database/{env}/backups"
	rt.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Backups(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"backups": list}, err)
	})
	rt.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		b, err := s.BackUp(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"backup": b}, err)
	})
	rt.HandleFunc("POST "+base+"/upload", func(w http.ResponseWriter, r *http.Request) {
		body := http.MaxBytesReader(w, r.Body, maxUpload)
		b, err := s.Upload(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), body)
		httpx.Reply(w, r, http.StatusCreated, map[string]any{"backup": b}, err)
	})
	rt.HandleFunc("GET "+base+"/{backupId}/download", func(w http.ResponseWriter, r *http.Request) {
		f, name, err := s.OpenBackup(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), r.PathValue("backupId"))
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			httpx.Error(w, r, fmt.Errorf("stat backup: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		http.ServeContent(w, r, name, fi.ModTime(), f)
	})
	rt.HandleFunc("DELETE "+base+"/{backupId}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoContent(w, r, s.DeleteBackup(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), r.PathValue("backupId")))
	})
	rt.HandleFunc("POST "+base+"/{backupId}/restore", func(w http.ResponseWriter, r *http.Request) {
		res, err := s.Restore(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"), r.PathValue("backupId"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"restore": res}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/database/prod/copy-from-dev", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Data bool `json:"data"`
		}
		if err := httpx.Decode(w, r, &body); err != nil {
			httpx.Error(w, r, err)
			return
		}
		info, undo, err := s.CopyFromDev(r.Context(), auth.Actor(r), r.PathValue("id"), body.Data)
		httpx.Reply(w, r, http.StatusOK, map[string]any{"database": info, "undo": undo}, err)
	})
	rt.HandleFunc("POST /api/projects/{id}/database/{env}/refresh-size", func(w http.ResponseWriter, r *http.Request) {
		info, err := s.RefreshSize(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("env"))
		httpx.Reply(w, r, http.StatusOK, map[string]any{"database": info}, err)
	})
}

// Backups lists the backups of the database of env, newest first, to
// anyone who may read the project.
func (s *Service) Backups(ctx context.Context, actor *auth.User, projectID, env string) ([]Backup, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	list, err := listBackups(ctx, s.db, p.ID, env)
	if list == nil && err == nil {
		list = []Backup{}
	}
	return list, err
}

// BackUp dumps the database of env now and answers the finished backup.
func (s *Service) BackUp(ctx context.Context, actor *auth.User, projectID, env string) (Backup, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Backup{}, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return Backup{}, err
	}
	unlock, err := s.lock(t)
	if err != nil {
		return Backup{}, err
	}
	defer unlock()
	b, err := s.backUp(ctx, t, kindManual, actor.ID)
	if err != nil {
		return Backup{}, err
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.backup", audit.Target("project", p.ID), map[string]any{"env": env, "backup": b.ID})
	return b, nil
}

// Upload keeps a dump made elsewhere (pg_dump -Fc) as a backup of the
// database of env, to restore like any other.
func (s *Service) Upload(ctx context.Context, actor *auth.User, projectID, env string, body io.Reader) (Backup, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Backup{}, err
	}
	if _, err := s.open(ctx, p.ID, env); err != nil {
		return Backup{}, err
	}
	head := make([]byte, len(dumpMagic))
	if _, err := io.ReadFull(body, head); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Backup{}, fmt.Errorf("receive a dump: %w", err)
	} else if err != nil || string(head) != dumpMagic {
		return Backup{}, errs.Invalid("not_a_dump", "This file is not a PostgreSQL dump in the custom format; make one with pg_dump -Fc.")
	}
	b := Backup{ID: store.NewID(), ProjectID: p.ID, Env: env, Kind: kindUpload, Status: statusRunning, CreatedBy: actor.ID, CreatedAt: store.Now()}
	if err := insertBackup(ctx, s.db, b); err != nil {
		return Backup{}, err
	}
	started := time.Now()
	size, err := s.writeDump(b.ProjectID, b.ID, func(f *os.File) error {
		_, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), body))
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return errs.TooLarge("dump_too_large", "A dump may be at most %d MiB.", tooLarge.Limit>>20)
		}
		if err != nil {
			return fmt.Errorf("receive a dump: %w", err)
		}
		return nil
	})
	if b, err = s.finish(ctx, b, started, size, err); err != nil {
		return Backup{}, err
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.upload", audit.Target("project", p.ID), map[string]any{"env": env, "backup": b.ID})
	return b, nil
}

// OpenBackup opens a finished backup's file to download, with the name to
// give it. Only people who may change the project get it: it holds all the
// data.
func (s *Service) OpenBackup(ctx context.Context, actor *auth.User, projectID, env, id string) (*os.File, string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, "", err
	}
	b, err := s.usableBackup(ctx, p.ID, env, id)
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(s.dumpPath(p.ID, b.ID))
	if err != nil {
		return nil, "", fmt.Errorf("open backup: %w", err)
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.download", audit.Target("project", p.ID), map[string]any{"env": env, "backup": b.ID})
	name := fmt.Sprintf("%s-%s-%s.dump", p.Slug, env, time.UnixMilli(b.CreatedAt).UTC().Format("20060102-150405"))
	return f, name, nil
}

// DeleteBackup forgets a backup and removes its file.
func (s *Service) DeleteBackup(ctx context.Context, actor *auth.User, projectID, env, id string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	b, err := s.findBackup(ctx, p.ID, env, id)
	if err != nil {
		return err
	}
	if b.Status == statusRunning {
		return errs.Conflict("backup_running", "This backup is still being made; delete it once it is done.")
	}
	if err := s.forget(ctx, b.ProjectID, b.ID); err != nil {
		return err
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.backup_delete", audit.Target("project", p.ID), map[string]any{"env": env, "backup": b.ID})
	return nil
}

// Restore replaces the database of env with a backup's contents, after
// backing up what is there now: restoring that backup (the undo) puts it
// back. The database then holds exactly what the backup held: what was made
// after it (a table) goes too. Should the restore fail, the database is put
// back from that same undo backup, as it was.
func (s *Service) Restore(ctx context.Context, actor *auth.User, projectID, env, id string) (Restored, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Restored{}, err
	}
	t, err := s.open(ctx, p.ID, env)
	if err != nil {
		return Restored{}, err
	}
	b, err := s.usableBackup(ctx, p.ID, env, id)
	if err != nil {
		return Restored{}, err
	}
	// Opened before the undo is made, which may prune this very backup
	// when it is the oldest pre-restore one.
	f, err := os.Open(s.dumpPath(p.ID, b.ID))
	if err != nil {
		return Restored{}, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	unlock, err := s.lock(t)
	if err != nil {
		return Restored{}, err
	}
	defer unlock()
	undo, err := s.backUp(ctx, t, kindPreRestore, actor.ID)
	if err != nil {
		return Restored{}, err
	}
	if err := s.restore(ctx, t, f, true); err != nil {
		return Restored{}, s.putBack(ctx, t, undo, err)
	}
	s.remeasure(ctx, t)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.restore", audit.Target("project", p.ID),
		map[string]any{"env": env, "backup": b.ID, "undo": undo.ID})
	return Restored{Backup: b, Undo: undo}, nil
}

// CopyFromDev replaces the production database's contents with the
// development database's schema, and its data when data is set. Production
// is backed up first (the undo), or created when missing (then no undo).
func (s *Service) CopyFromDev(ctx context.Context, actor *auth.User, projectID string, data bool) (Info, *Backup, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Info{}, nil, err
	}
	dev, err := s.open(ctx, p.ID, Dev)
	if err != nil {
		return Info{}, nil, err
	}
	_, created, err := s.ensure(ctx, p.ID, Prod, actor.ID)
	if err != nil {
		return Info{}, nil, err
	}
	prod, err := s.open(ctx, p.ID, Prod)
	if err != nil {
		return Info{}, nil, err
	}
	unlock, err := s.lock(prod)
	if err != nil {
		return Info{}, nil, err
	}
	defer unlock()
	var undo *Backup
	if !created {
		b, err := s.backUp(ctx, prod, kindPreCopy, actor.ID)
		if err != nil {
			return Info{}, nil, err
		}
		undo = &b
	}
	if err := s.copyDatabase(ctx, dev, prod, !data, true); err != nil {
		if undo != nil {
			err = s.putBack(ctx, prod, *undo, err)
		}
		return Info{}, nil, err
	}
	r := s.remeasure(ctx, prod)
	details := map[string]any{"from": Dev, "to": Prod, "data": data}
	if undo != nil {
		details["undo"] = undo.ID
	}
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "database.copy", audit.Target("project", p.ID), details)
	return s.info(r), undo, nil
}

// PrepareProd gives a project that has a development database and no
// production one a production database with the development schema (no
// data), at the start of a deploy; it writes what it did to log.
func (s *Service) PrepareProd(ctx context.Context, projectID string, log io.Writer) error {
	if _, err := getRow(ctx, s.db, projectID, Dev); errors.Is(err, errNoDatabase) {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := getRow(ctx, s.db, projectID, Prod); err == nil {
		return nil
	} else if !errors.Is(err, errNoDatabase) {
		return err
	}
	if _, created, err := s.ensure(ctx, projectID, Prod, ""); err != nil || !created {
		return err // !created: another request made it meanwhile, and fills it
	}
	dev, err := s.open(ctx, projectID, Dev)
	if err == nil {
		var prod *target
		if prod, err = s.open(ctx, projectID, Prod); err == nil {
			err = s.copyDatabase(ctx, dev, prod, true, false)
		}
	}
	if err != nil {
		// A production database without the schema would be left so by
		// every later deploy: drop it, and the next one tries again.
		s.dropNew(context.WithoutCancel(ctx), projectID, Prod)
		return fmt.Errorf("copy the development schema into production: %w", err)
	}
	fmt.Fprintln(log, "Created the production database from the development schema.")
	return nil
}

// dropNew drops a database made moments ago that could not be filled.
func (s *Service) dropNew(ctx context.Context, projectID, env string) {
	t, err := s.open(ctx, projectID, env)
	if err == nil {
		err = t.cluster.Drop(ctx, t.Name)
	}
	if err == nil {
		err = deleteRow(ctx, s.db, projectID, env)
	}
	if err != nil {
		s.log.Error("drop a database that could not be filled", "project", projectID, "env", env, "err", err)
	}
}

// lock claims t's database for one backup, restore or copy at a time.
func (s *Service) lock(t *target) (unlock func(), err error) {
	key := filepath.Join(s.backupDir(t.ProjectID), t.Env)
	if _, taken := s.busy.LoadOrStore(key, struct{}{}); taken {
		return nil, errs.Conflict("database_busy", "A backup, restore or copy of the %s database is under way; try again when it is done.", t.Env)
	}
	return func() { s.busy.Delete(key) }, nil
}

// backUp dumps t's database as its own role into a new backup of kind.
func (s *Service) backUp(ctx context.Context, t *target, kind, by string) (Backup, error) {
	b := Backup{ID: store.NewID(), ProjectID: t.ProjectID, Env: t.Env, Kind: kind, Status: statusRunning, CreatedBy: by, CreatedAt: store.Now()}
	if err := insertBackup(ctx, s.db, b); err != nil {
		return Backup{}, err
	}
	started := time.Now()
	size, err := s.writeDump(b.ProjectID, b.ID, func(f *os.File) error {
		cmd, err := tool(ctx, t, "pg_dump", "-Fc", "--no-owner", "--no-privileges")
		if err != nil {
			return err
		}
		// The program may run as the cluster's user, who cannot open the
		// backup folder: it writes to the file opened here.
		var stderr errOutput
		cmd.Stdout, cmd.Stderr = f, &stderr
		if err := cmd.Run(); err != nil {
			return &errs.Error{Kind: errs.KindUnavailable, Code: "backup_failed", Message: "The backup failed: " + stderr.first(), Cause: err}
		}
		return nil
	})
	return s.finish(ctx, b, started, size, err)
}

// finish records how a backup ended, then prunes its kind's oldest.
func (s *Service) finish(ctx context.Context, b Backup, started time.Time, size int64, failure error) (Backup, error) {
	b.TookMs = time.Since(started).Milliseconds()
	b.Status, b.SizeBytes = statusDone, size
	if failure != nil {
		b.Status, b.Error = statusFailed, "The backup did not complete; the server's log says why."
		if e, ok := errs.As(failure); ok {
			b.Error = e.Message
		}
	}
	// Recorded even when the request was cancelled: never left running.
	if err := finishBackup(context.WithoutCancel(ctx), s.db, b); err != nil && failure == nil {
		failure = err
	}
	s.prune(context.WithoutCancel(ctx), b.ProjectID, b.Env, b.Kind)
	return b, failure
}

// prune keeps the newest backups of a kind, complete and failed each, and
// forgets the rest. Failed ones are counted apart so that failures never
// push out good backups.
func (s *Service) prune(ctx context.Context, projectID, env, kind string) {
	if kind == kindSnapshot {
		return // kept as long as their snapshot
	}
	keep := keepOther
	if kind == kindDaily {
		keep = keepDaily
	}
	for _, status := range []string{statusDone, statusFailed} {
		ids, err := backupIDs(ctx, s.db, projectID, env, kind, status)
		if err != nil {
			s.log.Error("list backups to prune", "project", projectID, "env", env, "err", err)
			return
		}
		for _, id := range ids[min(keep, len(ids)):] {
			if err := s.forget(ctx, projectID, id); err != nil {
				s.log.Error("prune a backup", "project", projectID, "backup", id, "err", err)
			}
		}
	}
}

// forget deletes a backup's row, then its file.
func (s *Service) forget(ctx context.Context, projectID, id string) error {
	if err := deleteBackup(ctx, s.db, id); err != nil {
		return err
	}
	if err := os.Remove(s.dumpPath(projectID, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Error("remove a backup's file", "project", projectID, "backup", id, "err", err)
	}
	return nil
}

func (s *Service) dumpPath(projectID, id string) string {
	return filepath.Join(s.backupDir(projectID), id+".dump")
}

// writeDump makes a backup's file: write fills it under a temporary name,
// and only a complete file, synced to disk, takes the backup's name.
func (s *Service) writeDump(projectID, id string, write func(*os.File) error) (int64, error) {
	dir := s.backupDir(projectID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("create backup folder: %w", err)
	}
	final := s.dumpPath(projectID, id)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create backup file: %w", err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close backup file: %w", cerr)
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if d, err := os.Open(dir); err == nil { // the rename itself, to disk
		_ = d.Sync()
		d.Close()
	}
	return size, nil
}

// restore loads a dump into t's database as its own role, in one
// transaction; clean first drops everything the role owns there, so that
// the database holds exactly what the dump does.
func (s *Service) restore(ctx context.Context, t *target, from io.Reader, clean bool) error {
	if clean {
		if err := s.clear(ctx, t); err != nil {
			return err
		}
	}
	cmd, err := tool(ctx, t, "pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error")
	if err != nil {
		return err
	}
	var stderr errOutput
	cmd.Stdin, cmd.Stderr = from, &stderr
	if err := cmd.Run(); err != nil {
		return &errs.Error{Kind: errs.KindInvalid, Code: "restore_failed",
			Message: "The restore failed: " + stderr.first(), Cause: err}
	}
	return nil
}

// clear drops every object t's role owns in its database (the public
// schema belongs to the database's owner as such, and stays).
func (s *Service) clear(ctx context.Context, t *target) error {
	conn, err := s.connect(ctx, t)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// A database read-only for its size stays restorable (see tool).
	for _, q := range []string{"SET default_transaction_read_only = off", "DROP OWNED BY CURRENT_USER"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("empty the %s database: %w", t.Env, err)
		}
	}
	return nil
}

// putBack loads undo, the backup taken just before a restore or copy that
// failed with failure, into t's database again, and answers the error to
// show: the failure, and whether the database is as it was.
func (s *Service) putBack(ctx context.Context, t *target, undo Backup, failure error) error {
	ctx = context.WithoutCancel(ctx)
	f, err := os.Open(s.dumpPath(t.ProjectID, undo.ID))
	if err == nil {
		err = s.restore(ctx, t, f, true)
		f.Close()
	}
	msg := failure.Error()
	if e, ok := errs.As(failure); ok {
		msg = e.Message
	}
	if err != nil {
		s.log.Error("put a database back after a failed restore", "project", t.ProjectID, "env", t.Env, "undo", undo.ID, "err", err)
		return &errs.Error{Kind: errs.KindUnavailable, Code: "restore_failed",
			Message: msg + " Putting the database back failed too: restore the backup made just before (" + undo.ID + ").", Cause: failure}
	}
	return &errs.Error{Kind: errs.KindInvalid, Code: "restore_failed", Message: msg + " The database was put back as it was.", Cause: failure}
}

// copyDatabase loads from's schema, and its data unless schemaOnly, into
// to: pg_dump piped into pg_restore, each as its database's own role.
func (s *Service) copyDatabase(ctx context.Context, from, to *target, schemaOnly, clean bool) error {
	args := []string{"-Fc", "--no-owner", "--no-privileges"}
	if schemaOnly {
		args = append(args, "--schema-only")
	}
	dump, err := tool(ctx, from, "pg_dump", args...)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	var stderr errOutput
	dump.Stdout, dump.Stderr = w, &stderr
	err = dump.Start()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("start pg_dump: %w", err)
	}
	restoreErr := s.restore(ctx, to, r, clean)
	r.Close() // a pg_dump still writing ends on the broken pipe, saying nothing
	if err := dump.Wait(); err != nil && stderr.Len() > 0 {
		return &errs.Error{Kind: errs.KindUnavailable, Code: "copy_failed",
			Message: "Reading the " + from.Env + " database failed: " + stderr.first(), Cause: err}
	}
	return restoreErr
}

// tool prepares one of PostgreSQL's client programs to work on t's database
// as its own role; the password goes by the environment, never the command
// line. A database made read-only for its size stays writable to it:
// restoring a smaller backup is one way back under the quota.
func tool(ctx context.Context, t *target, name string, args ...string) (*exec.Cmd, error) {
	u, err := url.Parse(t.DSN())
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", t.Name, err)
	}
	u.User = url.User(t.Name)
	env := []string{"PGPASSWORD=" + t.password, "PGOPTIONS=-c default_transaction_read_only=off"}
	return t.cluster.Tool(ctx, env, name, append(args, "-d", u.String())...), nil
}

// errOutput keeps the start of a program's error output: enough to say
// why it failed, however much it writes.
type errOutput struct{ bytes.Buffer }

const maxErrOutput = 8 << 10

func (e *errOutput) Write(p []byte) (int, error) {
	if room := maxErrOutput - e.Len(); room > 0 {
		e.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// first answers the output's first lines, for a person.
func (e *errOutput) first() string {
	lines := strings.Split(strings.TrimSpace(e.String()), "\n")
	msg := strings.Join(lines[:min(4, len(lines))], "\n")
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	if msg == "" {
		return "it stopped without saying why."
	}
	return msg
}

// findBackup answers a backup of the project's database of env.
func (s *Service) findBackup(ctx context.Context, projectID, env, id string) (Backup, error) {
	if err := checkEnv(env); err != nil {
		return Backup{}, err
	}
	b, err := getBackup(ctx, s.db, projectID, env, id)
	if store.NoRows(err) {
		return Backup{}, errs.NotFound("backup_not_found", "There is no such backup of the %s database; it may have been deleted.", env)
	}
	return b, err
}

// usableBackup answers a backup that is complete.
func (s *Service) usableBackup(ctx context.Context, projectID, env, id string) (Backup, error) {
	b, err := s.findBackup(ctx, projectID, env, id)
	if err != nil {
		return Backup{}, err
	}
	if b.Status != statusDone {
		return Backup{}, errs.Conflict("backup_incomplete", "This backup is %s, not complete; choose another.", b.Status)
	}
	return b, nil
}

// runDaily backs up, once an hour, every database whose newest daily
// backup is a day old, until ctx ends.
func (s *Service) runDaily(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		s.backUpDaily(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Service) backUpDaily(ctx context.Context) {
	rows, err := allRows(ctx, s.db)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("daily backups", "err", err)
		}
		return
	}
	for _, r := range rows {
		if ctx.Err() != nil {
			return
		}
		last, err := lastDaily(ctx, s.db, r.ProjectID, r.Env)
		if err == nil {
			if time.Since(time.UnixMilli(last)) < dailyEvery {
				continue
			}
			err = s.backUpOnce(ctx, r)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("daily backup", "project", r.ProjectID, "env", r.Env, "err", err)
		}
	}
}

// backUpOnce makes a daily backup of r's database unless another backup,
// restore or copy holds it; the next hour tries again.
func (s *Service) backUpOnce(ctx context.Context, r row) error {
	t, err := s.open(ctx, r.ProjectID, r.Env)
	if err != nil {
		return err
	}
	unlock, err := s.lock(t)
	if err != nil {
		return nil
	}
	defer unlock()
	_, err = s.backUp(ctx, t, kindDaily, "")
	return err
}

// failInterrupted marks the backups that a stopped server left running,
// begun before at, as failed, and removes their partial files.
func (s *Service) failInterrupted(ctx context.Context, before int64) {
	list, err := runningBackups(ctx, s.db, before)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("find interrupted backups", "err", err)
		}
		return
	}
	for _, b := range list {
		if err := os.Remove(s.dumpPath(b.ProjectID, b.ID) + ".tmp"); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("remove an interrupted backup's file", "backup", b.ID, "err", err)
		}
		b.Status, b.Error = statusFailed, "The server stopped before the backup was complete."
		if err := finishBackup(ctx, s.db, b); err != nil {
			s.log.Error("mark an interrupted backup", "backup", b.ID, "err", err)
		}
	}
}
