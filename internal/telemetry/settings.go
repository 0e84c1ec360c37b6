package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"strconv"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// Settings are a project's monitoring settings, with its public ingest key
// and the script tag that carries them.
type Settings struct {
	IngestKey     string  `json:"ingestKey" db:"ingest_key"`
	Inject        bool    `json:"inject" db:"inject"`
	ReplaySample  float64 `json:"replaySample" db:"replay_sample"`
	ReplayOnError bool    `json:"replayOnError" db:"replay_on_error"`
	MaskText      bool    `json:"maskText" db:"mask_text"`
	Snippet       string  `json:"snippet" db:"-"`
}

// Change is a partial update of the settings: nil fields stay.
type Change struct {
	Inject        *bool    `json:"inject"`
	ReplaySample  *float64 `json:"replaySample"`
	ReplayOnError *bool    `json:"replayOnError"`
	MaskText      *bool    `json:"maskText"`
}

// resolved is what an ingest key stands for; ok false caches an unknown key.
type resolved struct {
	scope string
	ok    bool
}

// snippet is a project's script tag and whether the edge injects it.
type snippet struct {
	tag    string
	inject bool
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return "pk_" + hex.EncodeToString(b)
}

const settingsCols = `ingest_key, inject, replay_sample, replay_on_error, mask_text`

// settings reads a project's settings, made with a fresh key on first read.
func (s *Service) settings(ctx context.Context, projectID string) (Settings, error) {
	var st Settings
	err := s.db.Get(ctx, &st, `SELECT `+settingsCols+` FROM monitoring_settings WHERE project_id = ?`, projectID)
	if store.NoRows(err) {
		if _, err := s.db.Exec(ctx, `INSERT INTO monitoring_settings (project_id, ingest_key, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (project_id) DO NOTHING`, projectID, newKey(), s.now()); err != nil {
			return Settings{}, fmt.Errorf("create monitoring settings: %w", err)
		}
		err = s.db.Get(ctx, &st, `SELECT `+settingsCols+` FROM monitoring_settings WHERE project_id = ?`, projectID)
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read monitoring settings: %w", err)
	}
	st.Snippet = s.tag(st)
	return st, nil
}

// update applies c to a project's settings.
func (s *Service) update(ctx context.Context, projectID string, c Change) (Settings, error) {
	if c.ReplaySample != nil && (*c.ReplaySample < 0 || *c.ReplaySample > 1) {
		return Settings{}, errs.Invalid("invalid_replay_sample", "replaySample must be between 0 and 1.")
	}
	st, err := s.settings(ctx, projectID)
	if err != nil {
		return Settings{}, err
	}
	if c.Inject != nil {
		st.Inject = *c.Inject
	}
	if c.ReplaySample != nil {
		st.ReplaySample = *c.ReplaySample
	}
	if c.ReplayOnError != nil {
		st.ReplayOnError = *c.ReplayOnError
	}
	if c.MaskText != nil {
		st.MaskText = *c.MaskText
	}
	if _, err := s.db.Exec(ctx, `UPDATE monitoring_settings SET inject = ?, replay_sample = ?, replay_on_error = ?, mask_text = ?,
		updated_at = ? WHERE project_id = ?`, st.Inject, st.ReplaySample, st.ReplayOnError, st.MaskText, s.now(), projectID); err != nil {
		return Settings{}, fmt.Errorf("update monitoring settings: %w", err)
	}
	s.snippets.drop(projectID)
	st.Snippet = s.tag(st)
	return st, nil
}

// rotate gives a project a new ingest key; the old one stops resolving.
func (s *Service) rotate(ctx context.Context, projectID string) (Settings, error) {
	old, err := s.settings(ctx, projectID)
	if err != nil {
		return Settings{}, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE monitoring_settings SET ingest_key = ?, updated_at = ? WHERE project_id = ?`,
		newKey(), s.now(), projectID); err != nil {
		return Settings{}, fmt.Errorf("rotate ingest key: %w", err)
	}
	s.keys.drop(old.IngestKey)
	s.snippets.drop(projectID)
	return s.settings(ctx, projectID)
}

// Resolve answers the scope (project id) of an ingest key; ok is false for
// a key no project holds. Answers are reused for a few seconds, except
// after a rotation in this process, which takes effect at once.
func (s *Service) Resolve(ctx context.Context, key string) (scope string, ok bool, err error) {
	if r, hit := s.keys.get(key); hit {
		return r.scope, r.ok, nil
	}
	var id string
	err = s.db.Get(ctx, &id, `SELECT project_id FROM monitoring_settings WHERE ingest_key = ?`, key)
	if err != nil && !store.NoRows(err) {
		return "", false, fmt.Errorf("resolve ingest key: %w", err)
	}
	r := resolved{scope: id, ok: err == nil}
	s.keys.put(key, r)
	return r.scope, r.ok, nil
}

// Snippet answers a project's script tag and whether the deploy edge should
// inject it into the HTML it serves; a project never set up injects nothing.
func (s *Service) Snippet(ctx context.Context, projectID string) (string, bool, error) {
	if sn, hit := s.snippets.get(projectID); hit {
		return sn.tag, sn.inject, nil
	}
	var st Settings
	err := s.db.Get(ctx, &st, `SELECT `+settingsCols+` FROM monitoring_settings WHERE project_id = ?`, projectID)
	if err != nil && !store.NoRows(err) {
		return "", false, fmt.Errorf("read monitoring settings: %w", err)
	}
	var sn snippet
	if err == nil {
		sn = snippet{tag: s.tag(st), inject: st.Inject}
	}
	s.snippets.put(projectID, sn)
	return sn.tag, sn.inject, nil
}

// tag is the SDK's script tag for st.
func (s *Service) tag(st Settings) string {
	base := html.EscapeString(s.opts.PublicURL)
	return fmt.Sprintf(`<script src="%s/sdk/monitor.js" data-key="%s" data-endpoint="%s" data-replay="%s" data-replay-on-error="%s" data-mask-text="%s" defer></script>`,
		base, html.EscapeString(st.IngestKey), base, strconv.FormatFloat(st.ReplaySample, 'f', -1, 64), flag(st.ReplayOnError), flag(st.MaskText))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// now is the clock in unix ms.
func (s *Service) now() int64 { return s.opts.Now().UnixMilli() }
