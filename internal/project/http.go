package project

import (
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
)

type handlers struct{ svc *Service }

// Routes mounts the project and file routes.
func (s *Service) Routes(rt *httpx.Router) {
	h := handlers{svc: s}
	rt.HandleFunc("GET /api/templates", h.templates)
	rt.HandleFunc("POST /api/projects", h.create)
	rt.HandleFunc("GET /api/projects", h.list)
	rt.HandleFunc("GET /api/projects/{id}", h.get)
	rt.HandleFunc("PATCH /api/projects/{id}", h.update)
	rt.HandleFunc("DELETE /api/projects/{id}", h.delete)
	rt.HandleFunc("GET /api/users/{owner}/projects/{slug}", h.bySlug)
	rt.HandleFunc("GET /api/projects/{id}/files", h.listFiles)
	rt.HandleFunc("GET /api/projects/{id}/files/{path...}", h.readFile)
	rt.HandleFunc("PUT /api/projects/{id}/files/{path...}", h.writeFile)
	rt.HandleFunc("DELETE /api/projects/{id}/files/{path...}", h.deleteFile)
	rt.HandleFunc("POST /api/projects/{id}/mkdir", h.mkdir)
	rt.HandleFunc("POST /api/projects/{id}/move", h.move)
	rt.HandleFunc("POST /api/projects/{id}/upload", h.upload)
	rt.HandleFunc("GET /api/projects/{id}/zip", h.zip)
	rt.HandleFunc("GET /api/projects/{id}/search", h.search)
	rt.HandleFunc("POST /api/projects/{id}/fork", h.fork)
	rt.HandleFunc("POST /api/projects/{id}/transfer", h.transfer)
	rt.HandleFunc("GET /api/projects/{id}/history", h.history)
	rt.HandleFunc("GET /api/projects/{id}/history/{checkpoint}/diff", h.diff)
	rt.HandleFunc("POST /api/projects/{id}/checkpoints", h.checkpoint)
	rt.HandleFunc("POST /api/projects/{id}/restore", h.restore)
	h.resourceRoutes(rt)
}

func (h handlers) fork(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := h.svc.Fork(r.Context(), auth.Actor(r), r.PathValue("id"), in.Name)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"project": p})
}

func (h handlers) transfer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Owner string `json:"owner"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := h.svc.Transfer(r.Context(), auth.Actor(r), r.PathValue("id"), in.Owner)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"project": p}, err)
}

func (h handlers) history(w http.ResponseWriter, r *http.Request) {
	cps, omitted, err := h.svc.History(r.Context(), auth.Actor(r), r.PathValue("id"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"checkpoints": cps, "omittedAuto": omitted})
}

func (h handlers) diff(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Diff(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("checkpoint"), r.URL.Query().Get("against"))
	httpx.Reply(w, r, http.StatusOK, d, err)
}

func (h handlers) checkpoint(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message string `json:"message"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	cp, changed, err := h.svc.Checkpoint(r.Context(), auth.Actor(r), r.PathValue("id"), in.Message)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	status := http.StatusCreated
	if !changed {
		status = http.StatusOK
	}
	httpx.JSON(w, status, map[string]any{"checkpoint": cp, "changed": changed})
}

func (h handlers) restore(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Checkpoint string `json:"checkpoint"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	cp, err := h.svc.Restore(r.Context(), auth.Actor(r), r.PathValue("id"), in.Checkpoint)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"checkpoint": cp})
}

func (h handlers) templates(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]any{"templates": h.svc.Templates()})
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name       string `json:"name"`
		Template   string `json:"template"`
		GitURL     string `json:"gitUrl"`
		Visibility string `json:"visibility"`
		Owner      string `json:"owner"` // a team; empty: the caller
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	input := CreateInput{Name: in.Name, Template: in.Template, Visibility: in.Visibility, Owner: in.Owner}
	if in.GitURL != "" {
		if h.svc.runs == nil {
			httpx.Error(w, r, errs.Invalid("git_import_unavailable", "Importing from git is not available on this server; start from a template."))
			return
		}
		var err error
		if input, err = h.svc.runs.Importer(in.GitURL, input); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	p, err := h.svc.Create(r.Context(), auth.Actor(r), input)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"project": p})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	ps, err := h.svc.List(r.Context(), auth.Actor(r))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"projects": ps})
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Get(r.Context(), auth.Actor(r), r.PathValue("id"), access.Read)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"project": p})
}

func (h handlers) bySlug(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.BySlug(r.Context(), auth.Actor(r), r.PathValue("owner"), r.PathValue("slug"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"project": p})
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name       *string `json:"name"`
		Visibility *string `json:"visibility"`
		Internet   *bool   `json:"internet"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := h.svc.Update(r.Context(), auth.Actor(r), r.PathValue("id"), UpdateInput{Name: in.Name, Visibility: in.Visibility, Internet: in.Internet})
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"project": p})
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Delete(r.Context(), auth.Actor(r), r.PathValue("id")); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tree authorises a for the caller and returns the project and its tree,
// or answers the error and returns nil.
func (h handlers) tree(w http.ResponseWriter, r *http.Request, a access.Action) (*Project, *Tree) {
	p, err := h.svc.Get(r.Context(), auth.Actor(r), r.PathValue("id"), a)
	if err != nil {
		httpx.Error(w, r, err)
		return nil, nil
	}
	return p, h.svc.Tree(p)
}

func (h handlers) listFiles(w http.ResponseWriter, r *http.Request) {
	_, t := h.tree(w, r, access.Read)
	if t == nil {
		return
	}
	hash := r.URL.Query().Get("hash")
	if hash != "" && hash != "sha256" {
		httpx.Error(w, r, errs.Invalid("invalid_hash", "hash must be sha256"))
		return
	}
	files, truncated, err := t.List()
	if err == nil && hash != "" {
		err = t.Hash(files)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"files": files, "truncated": truncated})
}

func (h handlers) readFile(w http.ResponseWriter, r *http.Request) {
	p, err := CleanPath(r.PathValue("path"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	_, t := h.tree(w, r, access.Read)
	if t == nil {
		return
	}
	f, err := t.Open(p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	defer f.Close()
	var head [512]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		httpx.Error(w, r, err)
		return
	}
	hdr := w.Header()
	// Bytes of user files are data, never a page of the platform's origin.
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if isText(head[:n]) {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		hdr.Set("Content-Type", "application/octet-stream")
	}
	if r.URL.Query().Get("download") == "1" {
		hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	}
	// No validators: a file can change twice within the one-second grain
	// of Last-Modified, and a 304 would then hand the editor stale text.
	hdr.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

// isText reports whether a file's first bytes look like UTF-8 text.
func isText(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) { // a rune cut by the 512-byte window is fine
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	for _, c := range b {
		if c == 0 {
			return false
		}
	}
	return utf8.Valid(b)
}

// change authorises a write, runs op on the project's tree, records that
// the project changed and answers 204.
func (h handlers) change(w http.ResponseWriter, r *http.Request, op func(t *Tree) error) {
	proj, t := h.tree(w, r, access.Write)
	if t == nil {
		return
	}
	if err := op(t); err != nil {
		httpx.Error(w, r, err)
		return
	}
	h.svc.Touched(r.Context(), proj)
	w.WriteHeader(http.StatusNoContent)
}

// cleanPaths checks every path of a request with CleanPath.
func cleanPaths(ps ...string) ([]string, error) {
	out := make([]string, len(ps))
	for i, p := range ps {
		c, err := CleanPath(p)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func (h handlers) writeFile(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > h.svc.limits.MaxFile {
		httpx.Error(w, r, errs.TooLarge("file_too_large", "A file may be at most %s.", human(h.svc.limits.MaxFile)))
		return
	}
	p, err := CleanPath(r.PathValue("path"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h.change(w, r, func(t *Tree) error {
		_, err := t.Write(p, r.Body)
		return err
	})
}

func (h handlers) deleteFile(w http.ResponseWriter, r *http.Request) {
	p, err := CleanPath(r.PathValue("path"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h.change(w, r, func(t *Tree) error { return t.Delete(p) })
}

func (h handlers) mkdir(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Path string `json:"path"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := CleanPath(in.Path)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h.change(w, r, func(t *Tree) error { return t.Mkdir(p) })
}

func (h handlers) move(w http.ResponseWriter, r *http.Request) {
	var in struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	ps, err := cleanPaths(in.From, in.To)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	h.change(w, r, func(t *Tree) error { return t.Move(r.Context(), ps[0], ps[1]) })
}

func (h handlers) upload(w http.ResponseWriter, r *http.Request) {
	proj, t := h.tree(w, r, access.Write)
	if t == nil {
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		httpx.Error(w, r, errs.Invalid("invalid_upload", "Send the files as multipart/form-data."))
		return
	}
	dir := r.URL.Query().Get("dir")
	next := func() (*Upload, error) {
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				if err == io.EOF {
					return nil, err
				}
				return nil, errs.Invalid("invalid_upload", "The upload could not be read: %v.", err)
			}
			switch part.FormName() {
			case "dir":
				b, _ := io.ReadAll(io.LimitReader(part, 1100))
				dir = string(b)
			case "files":
				// FileName() keeps only the base name; a folder upload sends
				// the relative path, so read the raw parameter.
				_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
				p, err := CleanPath(path.Join(dir, params["filename"]))
				if params["filename"] == "" || err != nil {
					return nil, errs.Invalid("invalid_path", "Upload file name %q is not allowed.", params["filename"])
				}
				return &Upload{Path: p, Body: part}, nil
			}
		}
	}
	if dir != "" {
		if _, err := CleanPath(dir); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	files, err := t.WriteAll(next)
	if len(files) > 0 {
		h.svc.Touched(r.Context(), proj)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"files": files})
}

func (h handlers) zip(w http.ResponseWriter, r *http.Request) {
	p, t := h.tree(w, r, access.Read)
	if t == nil {
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.Slug + ".zip"}))
	if err := t.Zip(w); err != nil {
		// The status is sent; all that is left is to log and cut the stream.
		slog.ErrorContext(r.Context(), "zip download", "project_id", p.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (h handlers) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" || len(q) > 200 {
		httpx.Error(w, r, errs.Invalid("invalid_query", "Search for 1 to 200 characters."))
		return
	}
	caseSensitive, _ := strconv.ParseBool(r.URL.Query().Get("case"))
	_, t := h.tree(w, r, access.Read)
	if t == nil {
		return
	}
	matches, truncated, err := t.Search(q, caseSensitive)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"matches": matches, "truncated": truncated})
}
