// Package snapshot keeps a checkpoint's data beside its code: what the
// database, the key-value store and object storage of a project
// environment held when the checkpoint was made. Restoring such a
// checkpoint brings back all four or none: the data of the moment before
// is taken first, and put back should any part fail, and it stays attached
// to the "Before restoring" checkpoint, so that a restore is undone by
// restoring that one.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/kv"
	"ecode/internal/objstore"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Reasons a snapshot was taken.
const (
	ReasonManual  = "manual"  // a person asked for a checkpoint with data
	ReasonAgent   = "agent"   // before an agent run
	ReasonRestore = "restore" // the data just before a restore: its undo
	ReasonDeploy  = "deploy"  // production's data before a deploy
)

// Retention: the newest keepLatest snapshots of a project environment are
// kept, and those made by hand for keepManual besides.
const (
	keepLatest = 20
	keepManual = 30 * 24 * time.Hour
)

// Env is the environment whose data a workspace checkpoint holds.
const Env = "dev"

// EnvProd is the environment of deployments, whose data is snapshotted
// before each deploy and restored alone (its code is the release's).
const EnvProd = "prod"

// Projects is what snapshots need of projects: access, and checkpoints.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
	CheckpointAlways(ctx context.Context, actor *auth.User, id, msg string) (*project.Checkpoint, error)
	RestoreUndoable(ctx context.Context, actor *auth.User, id, target string) (restored, before *project.Checkpoint, err error)
}

// Databases backs up and restores a project environment's database; a
// snapshot's backup id is "" when the project had none.
type Databases interface {
	SnapshotDatabase(ctx context.Context, projectID, env, by string) (string, error)
	RestoreDatabase(ctx context.Context, projectID, env, id, undo string) error
	DropDatabaseSnapshot(ctx context.Context, projectID, id string) error
}

// KV keeps a scope's key-value entries under a snapshot id.
type KV interface {
	Snapshot(ctx context.Context, sc kv.Scope, id string) (int, error)
	RestoreSnapshot(ctx context.Context, sc kv.Scope, id string) error
	DropSnapshot(ctx context.Context, id string) error
}

// Objects keeps a scope's object manifest under a snapshot id.
type Objects interface {
	Usage(ctx context.Context, sc objstore.Scope) (objstore.Usage, error)
	Snapshot(ctx context.Context, sc objstore.Scope, id string) error
	RestoreSnapshot(ctx context.Context, sc objstore.Scope, id string) error
	DropSnapshot(ctx context.Context, id string) error
}

// Snapshot is the data of one checkpoint.
type Snapshot struct {
	ID          string `json:"id" db:"id"`
	ProjectID   string `json:"-" db:"project_id"`
	Env         string `json:"env" db:"env"`
	Commit      string `json:"commit" db:"commit_hash"`
	DBBackup    string `json:"-" db:"db_backup"`
	Database    bool   `json:"database" db:"database"`
	KVKeys      int64  `json:"kvKeys" db:"kv_keys"`
	ObjectCount int64  `json:"objectCount" db:"object_count"`
	ObjectBytes int64  `json:"objectBytes" db:"object_bytes"`
	CreatedAt   int64  `json:"createdAt" db:"created_at"`
	CreatedBy   string `json:"createdBy" db:"created_by"`
	Reason      string `json:"reason" db:"reason"`
}

func (s Snapshot) empty() bool { return s.DBBackup == "" && s.KVKeys == 0 && s.ObjectCount == 0 }

// Restored is what a restore did: the checkpoint it made, the snapshot it
// brought back, and the checkpoint whose restore undoes it.
type Restored struct {
	Checkpoint *project.Checkpoint `json:"checkpoint"`
	Snapshot   Snapshot            `json:"snapshot"`
	Undo       string              `json:"undo"`
}

// Service takes, restores and prunes data snapshots.
type Service struct {
	db       *store.DB
	projects Projects
	dbs      Databases
	kv       KV
	objects  Objects
	audit    *audit.Log
	log      *slog.Logger
	busy     sync.Map // project id: a snapshot or restore under way
}

// New builds the service over the three kinds of data.
func New(db *store.DB, bus *events.Bus, projects Projects, dbs Databases, kvs KV, objects Objects, audits *audit.Log) *Service {
	if db == nil || bus == nil || projects == nil || dbs == nil || kvs == nil || objects == nil || audits == nil {
		panic("snapshot.New: missing dependency")
	}
	s := &Service{db: db, projects: projects, dbs: dbs, kv: kvs, objects: objects, audit: audits, log: slog.Default()}
	events.Subscribe(bus, func(ctx context.Context, e project.Deleted) { s.dropProject(context.WithoutCancel(ctx), e.ProjectID) })
	return s
}

// Checkpoint makes a checkpoint of the project's files, a new one even
// when no file changed, with the data of its development environment.
func (s *Service) Checkpoint(ctx context.Context, actor *auth.User, projectID, message string) (*project.Checkpoint, Snapshot, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, Snapshot{}, err
	}
	unlock, err := s.lock(p.ID)
	if err != nil {
		return nil, Snapshot{}, err
	}
	defer unlock()
	cp, err := s.projects.CheckpointAlways(ctx, actor, p.ID, message)
	if err != nil {
		return nil, Snapshot{}, err
	}
	snap, err := s.take(ctx, p.ID, Env, cp.ID, actor.ID, ReasonManual)
	if err != nil {
		return nil, Snapshot{}, err
	}
	s.prune(context.WithoutCancel(ctx), p.ID, Env)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "snapshot.create", audit.Target("project", p.ID),
		map[string]any{"commit": cp.ID, "snapshot": snap.ID, "keys": snap.KVKeys, "objects": snap.ObjectCount, "database": snap.Database})
	return cp, snap, nil
}

// TakeIfData attaches the data of env, when the project has any, to
// commit, a checkpoint the caller made; by is who asked ("" for the
// platform). It answers false, keeping nothing, when there was no data.
func (s *Service) TakeIfData(ctx context.Context, projectID, env, commit, by, reason string) (Snapshot, bool, error) {
	unlock, err := s.lock(projectID)
	if err != nil {
		return Snapshot{}, false, err
	}
	defer unlock()
	snap, err := s.take(ctx, projectID, env, commit, by, reason)
	if err != nil {
		return Snapshot{}, false, err
	}
	if snap.empty() {
		s.drop(context.WithoutCancel(ctx), snap)
		return Snapshot{}, false, nil
	}
	s.prune(context.WithoutCancel(ctx), projectID, env)
	return snap, true, nil
}

// BeforeDeploy keeps production's data, when there is any, with commit,
// the checkpoint a deploy builds, and says so on log.
func (s *Service) BeforeDeploy(ctx context.Context, projectID, commit string, log io.Writer) error {
	snap, kept, err := s.TakeIfData(ctx, projectID, "prod", commit, "", ReasonDeploy)
	if err != nil {
		return err
	}
	if kept {
		fmt.Fprintf(log, "Kept production's data with checkpoint %s: %s.\n", commit[:7], describe(snap))
	}
	return nil
}

// describe says what a snapshot holds, for a person.
func describe(s Snapshot) string {
	db := "no database"
	if s.Database {
		db = "the database"
	}
	return fmt.Sprintf("%s, %s, %s", db, plural(s.KVKeys, "key"), plural(s.ObjectCount, "object"))
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// List answers the snapshots of a project's environment env (dev, the
// workspace's; prod, those taken before each deploy), newest first.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID, env string) ([]Snapshot, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	if env != Env && env != EnvProd {
		return nil, errs.Invalid("invalid_env", "The environment is dev or prod.")
	}
	list, err := listSnapshots(ctx, s.db, p.ID, env)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []Snapshot{}
	}
	return list, nil
}

// Restore brings back checkpoint commit's files and its development data.
// The data of the moment before is snapshotted first and attached to the
// "Before restoring" checkpoint; should any part of the restore fail, what
// was already restored is put back from it, and nothing has changed.
func (s *Service) Restore(ctx context.Context, actor *auth.User, projectID, commit string) (Restored, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Restored{}, err
	}
	unlock, err := s.lock(p.ID)
	if err != nil {
		return Restored{}, err
	}
	defer unlock()
	want, err := snapshotOf(ctx, s.db, p.ID, Env, commit)
	if store.NoRows(err) {
		return Restored{}, errs.NotFound("snapshot_not_found", "This checkpoint has no data snapshot; restore its files from the history instead.")
	}
	if err != nil {
		return Restored{}, err
	}
	undo, err := s.take(ctx, p.ID, Env, "", actor.ID, ReasonRestore)
	if err != nil {
		return Restored{}, fmt.Errorf("snapshot the data before restoring: %w", err)
	}
	failed := func(err error) (Restored, error) {
		s.drop(context.WithoutCancel(ctx), undo)
		return Restored{}, err
	}
	if err := s.restoreData(ctx, want, undo); err != nil {
		return failed(err)
	}
	restored, before, err := s.projects.RestoreUndoable(ctx, actor, p.ID, commit)
	if err != nil {
		return failed(s.putBack(ctx, undo, want, partAll, err))
	}
	if err := setCommit(context.WithoutCancel(ctx), s.db, undo.ID, before.ID); err != nil {
		return Restored{}, err
	}
	s.prune(context.WithoutCancel(ctx), p.ID, Env)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "snapshot.restore", audit.Target("project", p.ID),
		map[string]any{"commit": commit, "snapshot": want.ID, "undo": before.ID})
	return Restored{Checkpoint: restored, Snapshot: want, Undo: before.ID}, nil
}

// DataRestored is what a restore of data alone did: the snapshot it
// brought back, and the snapshot of the moment before, whose restore
// undoes it.
type DataRestored struct {
	Snapshot Snapshot `json:"snapshot"`
	Undo     string   `json:"undo"`
}

// RestoreData brings back the data of snapshot id and nothing else: how
// production's database, keys and objects go back to before a deploy
// (the code being the release's, rolled back on its own). The data of the
// moment before is snapshotted first, and is the undo; a failed part puts
// back those already restored.
func (s *Service) RestoreData(ctx context.Context, actor *auth.User, projectID, id string) (DataRestored, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return DataRestored{}, err
	}
	unlock, err := s.lock(p.ID)
	if err != nil {
		return DataRestored{}, err
	}
	defer unlock()
	want, err := snapshotByID(ctx, s.db, p.ID, id)
	if store.NoRows(err) {
		return DataRestored{}, errs.NotFound("snapshot_not_found", "No data snapshot %s in this project.", id)
	}
	if err != nil {
		return DataRestored{}, err
	}
	undo, err := s.take(ctx, p.ID, want.Env, "", actor.ID, ReasonRestore)
	if err != nil {
		return DataRestored{}, fmt.Errorf("snapshot the data before restoring: %w", err)
	}
	if err := s.restoreData(ctx, want, undo); err != nil {
		s.drop(context.WithoutCancel(ctx), undo)
		return DataRestored{}, err
	}
	s.prune(context.WithoutCancel(ctx), p.ID, want.Env)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "snapshot.restore_data", audit.Target("project", p.ID),
		map[string]any{"env": want.Env, "snapshot": want.ID, "undo": undo.ID})
	return DataRestored{Snapshot: want, Undo: undo.ID}, nil
}

// The parts of a snapshot, in the order a restore brings them back: the
// database first, the one most likely to fail.
const (
	partDatabase = iota
	partKV
	partObjects
	partAll
)

// restoreData makes the data of want's environment what want holds; undo
// was taken just before. On failure what was restored is put back.
func (s *Service) restoreData(ctx context.Context, want, undo Snapshot) error {
	if want.DBBackup != "" {
		if err := s.dbs.RestoreDatabase(ctx, want.ProjectID, want.Env, want.DBBackup, undo.DBBackup); err != nil {
			return s.putBack(ctx, undo, want, partDatabase, err)
		}
	}
	if err := s.kv.RestoreSnapshot(ctx, kv.Scope{ProjectID: want.ProjectID, Env: want.Env}, want.ID); err != nil {
		return s.putBack(ctx, undo, want, partKV, err)
	}
	if err := s.objects.RestoreSnapshot(ctx, objstore.Scope{ProjectID: want.ProjectID, Env: want.Env}, want.ID); err != nil {
		return s.putBack(ctx, undo, want, partObjects, err)
	}
	return nil
}

// putBack restores from undo the parts of want before failedAt (which
// failed with failure, leaving itself as it was), and answers the error to
// show: what failed, and whether everything is as it was.
func (s *Service) putBack(ctx context.Context, undo, want Snapshot, failedAt int, failure error) error {
	ctx = context.WithoutCancel(ctx)
	var errList []error
	if failedAt > partDatabase && want.DBBackup != "" && undo.DBBackup != "" {
		errList = append(errList, s.dbs.RestoreDatabase(ctx, undo.ProjectID, undo.Env, undo.DBBackup, ""))
	}
	if failedAt > partKV {
		errList = append(errList, s.kv.RestoreSnapshot(ctx, kv.Scope{ProjectID: undo.ProjectID, Env: undo.Env}, undo.ID))
	}
	if failedAt > partObjects {
		errList = append(errList, s.objects.RestoreSnapshot(ctx, objstore.Scope{ProjectID: undo.ProjectID, Env: undo.Env}, undo.ID))
	}
	msg, kind := "Restoring the checkpoint's data failed.", errs.KindUnavailable
	if e, ok := errs.As(failure); ok {
		msg = "Restoring the checkpoint's data failed: " + e.Message
		if e.Kind == errs.KindConflict {
			kind = errs.KindConflict // busy: trying again later will do
		}
	}
	if err := errors.Join(errList...); err != nil {
		s.log.Error("put data back after a failed restore", "project", undo.ProjectID, "undo", undo.ID, "restore_err", failure, "err", err)
		return &errs.Error{Kind: errs.KindUnavailable, Code: "snapshot_restore_failed", Cause: failure,
			Message: msg + " Putting the data back failed too; the server's log says which part."}
	}
	if failedAt == partDatabase {
		// The database's own message says whether it was put back.
		return &errs.Error{Kind: kind, Code: "snapshot_restore_failed", Cause: failure, Message: msg + " Nothing else was changed."}
	}
	return &errs.Error{Kind: kind, Code: "snapshot_restore_failed", Cause: failure,
		Message: msg + " The project's files and data are as they were."}
}

// take snapshots the data of env under a new id attached to commit. The
// caller prunes once it is done: a restore still needs its target.
func (s *Service) take(ctx context.Context, projectID, env, commit, by, reason string) (Snapshot, error) {
	snap := Snapshot{ID: store.NewID(), ProjectID: projectID, Env: env, Commit: commit, CreatedBy: by, CreatedAt: store.Now(), Reason: reason}
	var err error
	if snap.DBBackup, err = s.dbs.SnapshotDatabase(ctx, projectID, env, by); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot the %s database: %w", env, err)
	}
	snap.Database = snap.DBBackup != ""
	keys, err := s.kv.Snapshot(ctx, kv.Scope{ProjectID: projectID, Env: env}, snap.ID)
	if err == nil {
		snap.KVKeys = int64(keys)
		err = s.takeObjects(ctx, &snap)
	}
	if err == nil {
		err = insertSnapshot(ctx, s.db, snap)
	}
	if err != nil {
		s.drop(context.WithoutCancel(ctx), snap)
		return Snapshot{}, err
	}
	return snap, nil
}

func (s *Service) takeObjects(ctx context.Context, snap *Snapshot) error {
	sc := objstore.Scope{ProjectID: snap.ProjectID, Env: snap.Env}
	u, err := s.objects.Usage(ctx, sc)
	if err != nil {
		return fmt.Errorf("measure objects: %w", err)
	}
	snap.ObjectCount, snap.ObjectBytes = u.Objects, u.Bytes
	if err := s.objects.Snapshot(ctx, sc, snap.ID); err != nil {
		return fmt.Errorf("snapshot objects: %w", err)
	}
	return nil
}

// prune keeps the newest snapshots of a project environment and those
// made by hand lately, and drops the rest.
func (s *Service) prune(ctx context.Context, projectID, env string) {
	list, err := listSnapshots(ctx, s.db, projectID, env)
	if err != nil {
		s.log.Error("list data snapshots to prune", "project", projectID, "err", err)
		return
	}
	since := time.Now().Add(-keepManual).UnixMilli()
	for i, snap := range list {
		if i < keepLatest || snap.Reason == ReasonManual && snap.CreatedAt >= since {
			continue
		}
		s.drop(ctx, snap)
	}
}

// dropProject drops every snapshot of a deleted project.
func (s *Service) dropProject(ctx context.Context, projectID string) {
	list, err := projectSnapshots(ctx, s.db, projectID)
	if err != nil {
		s.log.Error("drop a deleted project's data snapshots", "project", projectID, "err", err)
		return
	}
	for _, snap := range list {
		s.drop(ctx, snap)
	}
}

// drop forgets a snapshot and each of its parts; a part that cannot be
// dropped is logged, and left to nobody.
func (s *Service) drop(ctx context.Context, snap Snapshot) {
	fail := func(part string, err error) {
		s.log.Error("drop a data snapshot", "project", snap.ProjectID, "snapshot", snap.ID, "part", part, "err", err)
	}
	if err := deleteSnapshot(ctx, s.db, snap.ID); err != nil {
		fail("row", err)
		return
	}
	if snap.DBBackup != "" {
		if err := s.dbs.DropDatabaseSnapshot(ctx, snap.ProjectID, snap.DBBackup); err != nil {
			fail("database", err)
		}
	}
	if err := s.kv.DropSnapshot(ctx, snap.ID); err != nil {
		fail("kv", err)
	}
	if err := s.objects.DropSnapshot(ctx, snap.ID); err != nil {
		fail("objects", err)
	}
}

// lock claims a project for one snapshot or restore at a time.
func (s *Service) lock(projectID string) (unlock func(), err error) {
	if _, taken := s.busy.LoadOrStore(projectID, struct{}{}); taken {
		return nil, errs.Conflict("snapshot_busy", "A data snapshot or restore of this project is under way; try again when it is done.")
	}
	return func() { s.busy.Delete(projectID) }, nil
}
