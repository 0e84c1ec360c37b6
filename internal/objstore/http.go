package objstore

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/project"
)

// Projects is what the Storage pane's routes need of the project
// capability: the project, once access is granted.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Manager serves the Storage pane: a project's members with write access
// browse, upload, download and delete its objects; changes are audited.
type Manager struct {
	s        *Store
	projects Projects
	audit    *audit.Log
}

// NewManager builds the pane's routes over s.
func NewManager(s *Store, projects Projects, audits *audit.Log) *Manager {
	if s == nil || projects == nil {
		panic("objstore.NewManager: nil store or projects")
	}
	return &Manager{s: s, projects: projects, audit: audits}
}

// Routes registers the pane's routes.
func (m *Manager) Routes(rt *httpx.Router) {
	const base = "/api/projects/{id}/storage/{env}"
	rt.HandleFunc("GET "+base, m.handle(m.overview))
	rt.HandleFunc("POST "+base+"/buckets", m.handle(m.createBucket))
	rt.HandleFunc("DELETE "+base+"/buckets/{bucket}", m.handle(m.deleteBucket))
	rt.HandleFunc("GET "+base+"/buckets/{bucket}/objects", m.handle(m.list))
	rt.HandleFunc("DELETE "+base+"/buckets/{bucket}/objects", m.handle(m.deleteFolder))
	rt.HandleFunc("GET "+base+"/buckets/{bucket}/object", m.handle(m.download))
	rt.HandleFunc("PUT "+base+"/buckets/{bucket}/object", m.handle(m.put))
	rt.HandleFunc("DELETE "+base+"/buckets/{bucket}/object", m.handle(m.delete))
	rt.HandleFunc("POST "+base+"/uploads", m.handle(m.startUpload))
	rt.HandleFunc("GET "+base+"/uploads/{upload}", m.handle(m.uploadStatus))
	rt.HandleFunc("PUT "+base+"/uploads/{upload}", m.handle(m.writeUpload))
	rt.HandleFunc("POST "+base+"/uploads/{upload}/finish", m.handle(m.finishUpload))
	rt.HandleFunc("DELETE "+base+"/uploads/{upload}", m.handle(m.abortUpload))
}

// scope checks the caller's access to the project, then the environment:
// those who may not see the project learn nothing of its routes.
func (m *Manager) scope(r *http.Request) (*project.Project, Scope, error) {
	p, err := m.projects.Get(r.Context(), auth.Actor(r), r.PathValue("id"), access.Write)
	if err != nil {
		return nil, Scope{}, err
	}
	env := r.PathValue("env")
	if env != "dev" && env != "prod" {
		return nil, Scope{}, errs.Invalid("invalid_env", "The environment must be dev or prod, not %q.", env)
	}
	return p, Scope{ProjectID: p.ID, Env: env}, nil
}

// record audits a change to the scope's storage.
func (m *Manager) record(r *http.Request, p *project.Project, sc Scope, action string, details map[string]any) {
	details["env"] = sc.Env
	m.audit.RecordIn(r.Context(), p.TeamID(), auth.Actor(r).AuditActor(), action, audit.Target("project", p.ID), details)
}

// handle wraps a route: access first, then fn with the project and scope;
// fn writes its answer, or returns the error to answer.
func (m *Manager) handle(fn func(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, sc, err := m.scope(r)
		if err == nil {
			err = fn(w, r, p, sc)
		}
		if err != nil {
			httpx.Error(w, r, err)
		}
	}
}

func (m *Manager) overview(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	bs, err := m.s.Buckets(r.Context(), sc)
	if err != nil {
		return err
	}
	u, err := m.s.Usage(r.Context(), sc)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"buckets": bs, "usage": u})
	return nil
}

func (m *Manager) createBucket(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	b, err := m.s.CreateBucket(r.Context(), sc, in.Name)
	if err != nil {
		return err
	}
	m.record(r, p, sc, "storage.bucket_create", map[string]any{"bucket": b.Name})
	httpx.JSON(w, http.StatusCreated, map[string]any{"bucket": b})
	return nil
}

func (m *Manager) deleteBucket(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	name := r.PathValue("bucket")
	if err := m.s.DeleteBucket(r.Context(), sc, name); err != nil {
		return err
	}
	m.record(r, p, sc, "storage.bucket_delete", map[string]any{"bucket": name})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// A listing's page: its size unless asked, and at most.
const (
	defaultPage = 100
	maxPage     = 1000
)

func (m *Manager) list(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	q := r.URL.Query()
	limit := defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return errs.Invalid("invalid_limit", "limit must be a number from 1 to %d.", maxPage)
		}
		limit = n
	}
	objs, prefixes, next, err := m.s.List(r.Context(), sc, r.PathValue("bucket"), q.Get("prefix"), q.Get("delimiter"), q.Get("after"), limit)
	if err != nil {
		return err
	}
	if objs == nil {
		objs = []Object{}
	}
	if prefixes == nil {
		prefixes = []string{}
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"objects": objs, "prefixes": prefixes, "next": next})
	return nil
}

// key is the request's ?key=, which must name a key the store can hold.
func key(r *http.Request) (string, error) {
	k := r.URL.Query().Get("key")
	return k, CheckKey(k)
}

func (m *Manager) download(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	k, err := key(r)
	if err != nil {
		return err
	}
	bucket := r.PathValue("bucket")
	o, err := m.s.Stat(r.Context(), sc, bucket, k)
	if err != nil {
		return err
	}
	off, n, partial, ok := byteRange(r.Header.Get("Range"), o.Size)
	h := w.Header()
	if !ok {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		return errs.Invalid("invalid_range", "The object has %d bytes; the range asks for others.", o.Size)
	}
	var rd io.ReadCloser
	if n > 0 {
		if rd, err = m.s.openBlob(r.Context(), o, off, n); err != nil {
			return err
		}
		defer rd.Close()
	}
	name := k[strings.LastIndexByte(k, '/')+1:]
	h.Set("Content-Type", o.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", etag(o))
	h.Set("Last-Modified", o.Updated.Format(http.TimeFormat))
	h.Set("X-Content-Type-Options", "nosniff")
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if rd != nil {
		_, _ = io.Copy(w, rd) // a client gone away reads nothing
	}
	return nil
}

func (m *Manager) put(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	k, err := key(r)
	if err != nil {
		return err
	}
	if err := m.s.Fits(r.Context(), sc, r.PathValue("bucket"), k, r.ContentLength); err != nil {
		unread(w)
		return err
	}
	o, err := m.s.Put(r.Context(), sc, r.PathValue("bucket"), k, r.Body, r.Header.Get("Content-Type"), nil)
	return m.stored(w, r, p, sc, o, err)
}

// stored answers a written object, audited, or the error that kept it.
func (m *Manager) stored(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope, o Object, err error) error {
	if err != nil {
		return err
	}
	m.record(r, p, sc, "storage.put", map[string]any{"bucket": o.Bucket, "key": o.Key, "size": o.Size})
	httpx.JSON(w, http.StatusOK, map[string]any{"object": o})
	return nil
}

func (m *Manager) delete(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	k, err := key(r)
	if err != nil {
		return err
	}
	bucket := r.PathValue("bucket")
	if err := m.s.Delete(r.Context(), sc, bucket, k); err != nil {
		return err
	}
	m.record(r, p, sc, "storage.delete", map[string]any{"bucket": bucket, "key": k})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) deleteFolder(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	prefix := r.URL.Query().Get("prefix")
	if prefix == "" {
		return errs.Invalid("invalid_prefix", "Name the folder to delete as ?prefix=; to empty a bucket, delete its folders one by one.")
	}
	bucket := r.PathValue("bucket")
	n, err := m.s.DeletePrefix(r.Context(), sc, bucket, prefix)
	if err != nil {
		return err
	}
	m.record(r, p, sc, "storage.delete", map[string]any{"bucket": bucket, "prefix": prefix, "deleted": n})
	httpx.JSON(w, http.StatusOK, map[string]any{"deleted": n})
	return nil
}

// uploadState is an upload as the pane sees it.
type uploadState struct {
	ID       string `json:"id"`
	Received int64  `json:"received"`
}

func (m *Manager) startUpload(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	var in struct {
		Bucket      string `json:"bucket"`
		Key         string `json:"key"`
		ContentType string `json:"contentType"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	id, err := m.s.StartUpload(r.Context(), sc, in.Bucket, in.Key, in.ContentType, nil)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"upload": uploadState{ID: id}})
	return nil
}

func (m *Manager) uploadStatus(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	id := r.PathValue("upload")
	n, err := m.s.UploadStatus(r.Context(), sc, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"upload": uploadState{ID: id, Received: n}})
	return nil
}

// offsetMismatch is the 409 of a chunk sent at the wrong offset: the error
// shape, with what the server has in details so the client resumes there.
type offsetMismatch struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			Received int64 `json:"received"`
		} `json:"details"`
	} `json:"error"`
}

func (m *Manager) writeUpload(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	off, err := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	if err != nil || off < 0 {
		return errs.Invalid("invalid_offset", "Send ?offset= with the byte offset of the chunk.")
	}
	id := r.PathValue("upload")
	n, err := m.s.WriteUpload(r.Context(), sc, id, off, r.Body)
	if e, ok := errs.As(err); ok && e.Code == "upload_offset_mismatch" {
		var body offsetMismatch
		body.Error.Code, body.Error.Message, body.Error.Details.Received = e.Code, e.Message, n
		httpx.JSON(w, http.StatusConflict, body)
		return nil
	}
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"upload": uploadState{ID: id, Received: n}})
	return nil
}

func (m *Manager) finishUpload(w http.ResponseWriter, r *http.Request, p *project.Project, sc Scope) error {
	o, err := m.s.FinishUpload(r.Context(), sc, r.PathValue("upload"))
	return m.stored(w, r, p, sc, o, err)
}

func (m *Manager) abortUpload(w http.ResponseWriter, r *http.Request, _ *project.Project, sc Scope) error {
	if err := m.s.AbortUpload(r.Context(), sc, r.PathValue("upload")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
