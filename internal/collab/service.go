// Package collab is the document authority of real-time editing: for
// every open file it holds the text and orders the changes people make
// (@codemirror/collab's protocol), keeps the file on disk in step, and
// tells everyone in a project who is there, where they are, and what
// changed in the tree.
//
// Everything lives in one process, keyed by project: a cluster routes a
// project's connections to one node, which owns its documents.
package collab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/httpx"
	"ecode/internal/project"
)

// Message is what the workspace socket carries for collaboration.
type Message struct {
	Type      string     `json:"type"`
	Path      string     `json:"path,omitempty"`
	To        string     `json:"to,omitempty"`
	Version   *int       `json:"version,omitempty"`
	Epoch     string     `json:"epoch,omitempty"`
	Text      *string    `json:"text,omitempty"`
	Updates   []Update   `json:"updates,omitempty"`
	ReadOnly  *bool      `json:"readOnly,omitempty"`
	Peers     []Presence `json:"peers,omitempty"`
	ID        string     `json:"id,omitempty"`
	Code      string     `json:"code,omitempty"`
	Message   string     `json:"message,omitempty"`
	Selection *Selection `json:"selection,omitempty"`
}

// Selection is a cursor or selection in UTF-16 offsets.
type Selection struct {
	Anchor int `json:"anchor"`
	Head   int `json:"head"`
}

// Presence is one person's tab in a project, as the others see it.
type Presence struct {
	ID        string     `json:"id"`
	UserID    string     `json:"userId"`
	Username  string     `json:"username"`
	Color     string     `json:"color"`
	Role      string     `json:"role"`
	File      *string    `json:"file"`
	Selection *Selection `json:"selection"`
}

// Peer is one workspace tab connected to a project.
type Peer struct {
	id        string
	user      *auth.User
	projectID string
	role      string
	canEdit   bool         // as access decided when the tab connected; a change of role reconnects it
	client    httpx.Client // where the tab connected from, to ask again when the rules change
	send      func(Message)
	hangUp    func()

	mu   sync.Mutex
	file *string
	sel  *Selection
	docs map[string]*doc
}

// canWrite reports whether the tab may change documents: its owner's, an
// editor's, or a team admin's.
func (p *Peer) canWrite() bool { return p.canEdit }

// Projects is what collab needs of the project capability.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
	Tree(p *project.Project) *project.Tree
}

// Options tune the service.
type Options struct {
	// Linger keeps a document in memory this long after its last client
	// leaves, so a client that drops and comes back catches up.
	Linger time.Duration
	// MaxFile is the largest file edited together.
	MaxFile int64
}

// Service holds every open document and every connected tab.
type Service struct {
	projects Projects
	bus      *events.Bus
	opts     Options
	log      *slog.Logger

	mu    sync.Mutex
	rooms map[string]*room // by project id
}

// room is one project's live state.
type room struct {
	project *project.Project
	tree    *project.Tree
	peers   map[*Peer]bool
	docs    map[string]*doc
	watch   *watcher
}

// NewService returns the collaboration authority.
// It follows the projects' changes on bus: moved files, changed roles and
// allowlists, new owners.
func NewService(bus *events.Bus, projects Projects, opts Options) *Service {
	if opts.Linger == 0 {
		opts.Linger = 2 * time.Minute
	}
	if opts.MaxFile == 0 {
		opts.MaxFile = 2 << 20
	}
	s := &Service{projects: projects, bus: bus, opts: opts, log: slog.Default(), rooms: map[string]*room{}}
	events.Subscribe(bus, func(_ context.Context, e project.FileMoved) { s.moved(e.ProjectID, e.From, e.To) })
	// A role changed: that person's tabs reconnect with the new role, or,
	// when they lost access, close for good, saying so.
	events.Subscribe(bus, func(_ context.Context, e project.AccessChanged) { s.recheck(e.ProjectID, e.UserID, true) })
	// The allowlist changed: each tab is asked again whether it may stay;
	// those that may not are told why and closed.
	events.Subscribe(bus, func(_ context.Context, e project.AdmissionChanged) { s.recheck(e.ProjectID, "", false) })
	// A new owner: every tab reconnects with the roles it brings.
	events.Subscribe(bus, func(_ context.Context, e project.Transferred) { s.recheck(e.Project.ID, "", true) })
	events.Subscribe(bus, func(_ context.Context, e project.HandedOver) { s.letGo(e.ProjectID) })
	events.Subscribe(bus, func(_ context.Context, e project.Gone) { s.letGo(e.ProjectID) })
	return s
}

// letGo lets go of a project another server of the cluster holds now, or
// that was deleted: its tabs reconnect through the holder (which answers
// a deleted one's with not found), and its documents, whose confirmed
// edits are on disk, are read there afresh; none stays here to be found
// stale if the project comes back.
func (s *Service) letGo(projectID string) {
	s.mu.Lock()
	r := s.rooms[projectID]
	delete(s.rooms, projectID)
	var peers []*Peer
	if r != nil {
		peers = slices.Collect(maps.Keys(r.peers))
	}
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.watch.close()
	for _, p := range peers {
		p.hangUp()
	}
}

var palette = []string{"#e5534b", "#57ab5a", "#539bf5", "#c69026", "#b083f0", "#39c5cf", "#e275ad", "#f69d50"}

func colorOf(userID string) string {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return palette[h.Sum32()%uint32(len(palette))]
}

// Join connects a tab of actor to project projectID; send delivers the
// tab's messages and must not block; hangUp ends the tab's connection
// (its access was taken away). Leave it when the tab goes.
func (s *Service) Join(ctx context.Context, actor *auth.User, projectID string, send func(Message), hangUp func()) (*Peer, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	peer := &Peer{id: hex.EncodeToString(b), user: actor, projectID: p.ID, role: p.Role, canEdit: p.CanEdit, client: httpx.ClientFrom(ctx), send: send, hangUp: hangUp, docs: map[string]*doc{}}
	if actor == nil {
		peer.user = &auth.User{Username: "guest"}
	}
	s.mu.Lock()
	r := s.rooms[p.ID]
	if r == nil {
		r = &room{project: p, tree: s.projects.Tree(p), peers: map[*Peer]bool{}, docs: map[string]*doc{}}
		r.watch = s.watch(p.ID, r.tree)
		s.rooms[p.ID] = r
	}
	r.peers[peer] = true
	s.mu.Unlock()
	send(Message{Type: "presence.self", ID: peer.id})
	s.broadcastPresence(p.ID)
	return peer, nil
}

// Leave disconnects a tab: its documents and its presence go.
func (s *Service) Leave(peer *Peer) {
	peer.mu.Lock()
	paths := make([]string, 0, len(peer.docs))
	for path := range peer.docs {
		paths = append(paths, path)
	}
	peer.mu.Unlock()
	for _, path := range paths {
		s.Close(peer, path)
	}
	s.mu.Lock()
	r := s.rooms[peer.projectID]
	if r != nil {
		delete(r.peers, peer)
	}
	empty := r != nil && len(r.peers) == 0 && len(r.docs) == 0
	if empty {
		r.watch.close()
		delete(s.rooms, peer.projectID)
	}
	s.mu.Unlock()
	if !empty {
		s.broadcastPresence(peer.projectID)
	}
}

// Open subscribes peer to the document at path. With the version and
// epoch it knew, it gets the updates it missed; else the whole text.
func (s *Service) Open(ctx context.Context, peer *Peer, path string, version *int, epoch string) error {
	path, err := project.CleanPath(path)
	if err != nil {
		return err
	}
	d, err := s.doc(peer.projectID, path)
	if err != nil {
		return err
	}
	peer.mu.Lock()
	peer.docs[path] = d
	peer.mu.Unlock()
	readOnly := !peer.canWrite()
	opened := Message{Type: "doc.opened", Path: path, ReadOnly: &readOnly}
	if version != nil && d.rejoin(peer, *version, epoch, opened) {
		return nil
	}
	d.join(peer, opened)
	return nil
}

// doc returns the open document at path, loading it from disk.
func (s *Service) doc(projectID, path string) (*doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[projectID]
	if r == nil {
		return nil, errs.Invalid("not_joined", "Join the project first.")
	}
	if d := r.docs[path]; d != nil {
		return d, nil
	}
	file, err := s.read(r.tree, path)
	if err != nil {
		return nil, err
	}
	tree := r.tree
	d := newDoc(path, file, func(path, content string) error {
		_, err := tree.Write(path, strings.NewReader(content))
		return err
	})
	// The last client may have left while the text was being written: the
	// document lingers from then, as from any last leave, so a tab that
	// dropped comes back to it instead of to a new one.
	d.idle = func() { time.AfterFunc(s.opts.Linger, func() { s.release(projectID, path, d) }) }
	r.docs[path] = d
	return d, nil
}

func (s *Service) read(tree *project.Tree, path string) (string, error) {
	f, err := tree.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.opts.MaxFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > s.opts.MaxFile {
		return "", errs.TooLarge("file_too_large", "%s is over %d MB: open it alone, it is too large to edit together.", path, s.opts.MaxFile>>20)
	}
	if !utf8.Valid(b) {
		return "", errs.Invalid("binary_file", "%s is not text.", path)
	}
	return string(b), nil
}

// Close unsubscribes peer from the document at path.
func (s *Service) Close(peer *Peer, path string) {
	peer.mu.Lock()
	d := peer.docs[path]
	delete(peer.docs, path)
	peer.mu.Unlock()
	if d != nil && d.leave(peer) {
		d.mu.Lock()
		flushing := d.flushing
		d.mu.Unlock()
		if !flushing {
			time.AfterFunc(s.opts.Linger, func() { s.release(peer.projectID, path, d) })
		}
	}
}

// release forgets an idle document whose last client left a while ago.
func (s *Service) release(projectID, path string, d *doc) {
	d.mu.Lock()
	busy := len(d.subs) > 0 || d.flushing
	d.mu.Unlock()
	if busy {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[projectID]
	if r == nil || r.docs[path] != d {
		return
	}
	delete(r.docs, path)
	if len(r.peers) == 0 && len(r.docs) == 0 {
		r.watch.close()
		delete(s.rooms, projectID)
	}
}

// Push applies peer's updates to the document at path.
func (s *Service) Push(peer *Peer, path string, version int, updates []Update) error {
	peer.mu.Lock()
	d := peer.docs[path]
	peer.mu.Unlock()
	if d == nil {
		return errs.Invalid("not_open", "Open %s before changing it.", path)
	}
	if !peer.canWrite() {
		return errs.Forbidden("forbidden", "You can view this project but not change it.")
	}
	if len(updates) == 0 || len(updates) > 1000 {
		return errs.Invalid("invalid_changes", "Push 1 to 1000 updates at a time.")
	}
	err := d.push(version, updates)
	switch {
	case errors.Is(err, ErrRejected):
		d.mu.Lock()
		v := d.version
		d.mu.Unlock()
		peer.send(Message{Type: "doc.rejected", Path: path, Version: &v})
		return nil
	case errors.Is(err, ErrInvalid):
		return errs.Invalid("invalid_changes", "%v", err)
	}
	return err
}

// SetPresence records where peer is and tells the project.
func (s *Service) SetPresence(peer *Peer, file *string, sel *Selection) {
	peer.mu.Lock()
	peer.file, peer.sel = file, sel
	peer.mu.Unlock()
	s.broadcastPresence(peer.projectID)
}

func (s *Service) broadcastPresence(projectID string) {
	s.mu.Lock()
	r := s.rooms[projectID]
	var peers []*Peer
	if r != nil {
		for p := range r.peers {
			peers = append(peers, p)
		}
	}
	s.mu.Unlock()
	list := make([]Presence, 0, len(peers))
	for _, p := range peers {
		p.mu.Lock()
		list = append(list, Presence{ID: p.id, UserID: p.user.ID, Username: p.user.Username, Color: colorOf(p.user.ID + p.user.Username),
			Role: p.role, File: p.file, Selection: p.sel})
		p.mu.Unlock()
	}
	for _, p := range peers {
		p.send(Message{Type: "presence", Peers: list})
	}
}

// room's peers, for broadcasts of the tree.
func (s *Service) roomPeers(projectID string) []*Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[projectID]
	if r == nil {
		return nil
	}
	out := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		out = append(out, p)
	}
	return out
}

// moved tells a project's tabs that a file or folder moved, and moves its
// open documents with it.
func (s *Service) moved(projectID, from, to string) {
	s.mu.Lock()
	if r := s.rooms[projectID]; r != nil {
		for path, d := range r.docs {
			if path == from || strings.HasPrefix(path, from+"/") {
				next := to + strings.TrimPrefix(path, from)
				delete(r.docs, path)
				d.mu.Lock()
				d.path = next
				d.mu.Unlock()
				r.docs[next] = d
			}
		}
	}
	s.mu.Unlock()
	for _, p := range s.roomPeers(projectID) {
		p.send(Message{Type: "doc.renamed", Path: from, To: to})
		p.mu.Lock()
		for path, d := range p.docs {
			if path == from || strings.HasPrefix(path, from+"/") {
				delete(p.docs, path)
				p.docs[to+strings.TrimPrefix(path, from)] = d
			}
		}
		p.mu.Unlock()
	}
}

func (s *Service) recheck(projectID, userID string, always bool) {
	for _, p := range s.roomPeers(projectID) {
		if userID != "" && p.user.ID != userID {
			continue
		}
		actor := p.user
		if actor.ID == "" {
			actor = nil // a guest of a public project
		}
		_, err := s.projects.Get(httpx.WithClient(context.Background(), p.client), actor, projectID, access.Read)
		if err != nil {
			m := Message{Type: "error", Code: "access_revoked", Message: "You no longer have access to this project."}
			if e, ok := errs.As(err); ok && e.Code == "ip_not_allowed" {
				m.Code, m.Message = e.Code, e.Message
			}
			p.send(m)
		}
		if err != nil || always {
			p.hangUp()
		}
	}
}

func isNotFound(err error) bool { return errs.Is(err, errs.KindNotFound) }
