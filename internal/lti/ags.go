package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"ecode/internal/auth"
	"ecode/internal/course"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// AGS scopes and media types (Assignment and Grade Services 2.0).
const (
	scopeScore      = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	scopeLineItem   = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	scopeResultRead = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	scopeMembership = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
	typeScore       = "application/vnd.ims.lis.v1.score+json"
	typeLineItem    = "application/vnd.ims.lis.v2.lineitem+json"
)

// passbackAttempts bounds the retries of one score: with passbackBackoff
// doubling from a second to half an hour, about an hour and a half.
const passbackAttempts = 12

// PassbackArgs is the job that sends one submission's score to the LMS.
type PassbackArgs struct {
	SubmissionID string `json:"submissionId"`
}

// Kind names the job for River.
func (PassbackArgs) Kind() string { return "lti_passback" }

type passbackWorker struct {
	river.WorkerDefaults[PassbackArgs]
	s *Service
}

func (w *passbackWorker) Work(ctx context.Context, job *river.Job[PassbackArgs]) error {
	return w.s.sendScore(ctx, job.Args.SubmissionID, job.Attempt)
}

// NextRetry backs off from a second, doubling up to half an hour, so an
// LMS that hiccups gets the score within seconds.
func (w *passbackWorker) NextRetry(job *river.Job[PassbackArgs]) time.Time {
	return time.Now().Add(passbackBackoff(job.Attempt))
}

func passbackBackoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// graded queues the score of a linked course's submission for the LMS,
// when the LMS gave the assignment a line item (or a place to make one)
// and the student came from the LMS.
func (s *Service) graded(ctx context.Context, e course.Graded) {
	if err := s.queuePassback(ctx, e); err != nil {
		slog.ErrorContext(ctx, "queue LMS score passback", "submission", e.SubmissionID, "err", err)
	}
}

func (s *Service) queuePassback(ctx context.Context, e course.Graded) error {
	var platformID string
	err := s.db.Get(ctx, &platformID, `SELECT platform_id FROM lti_contexts WHERE course_id = ?`, e.CourseID)
	if store.NoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find course link: %w", err)
	}
	var linkID string
	err = s.db.Get(ctx, &linkID, `SELECT resource_link_id FROM lti_links WHERE course_id = ? AND assignment_id = ?
		AND (lineitem_url <> '' OR lineitems_url <> '') ORDER BY updated_at DESC LIMIT 1`, e.CourseID, e.AssignmentID)
	if store.NoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find line item: %w", err)
	}
	var sub string
	err = s.db.Get(ctx, &sub, `SELECT sub FROM lti_users WHERE platform_id = ? AND user_id = ?`, platformID, e.UserID)
	if store.NoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find LMS person: %w", err)
	}
	now := store.Now()
	_, err = s.db.Exec(ctx, `INSERT INTO lti_passbacks (submission_id, course_id, resource_link_id, user_id, lms_user_id, score_given, score_maximum,
		comment, graded_at, status, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '', ?)
		ON CONFLICT (submission_id) DO UPDATE SET resource_link_id = excluded.resource_link_id, lms_user_id = excluded.lms_user_id,
		score_given = excluded.score_given, score_maximum = excluded.score_maximum, comment = excluded.comment,
		graded_at = excluded.graded_at, status = 'pending', attempts = 0, error = '', updated_at = excluded.updated_at`,
		e.SubmissionID, e.CourseID, linkID, e.UserID, sub, e.Score, e.MaxScore, e.Comment, e.At.UnixMilli(), now)
	if err != nil {
		return fmt.Errorf("record passback: %w", err)
	}
	return s.queue.Insert(ctx, PassbackArgs{SubmissionID: e.SubmissionID}, &river.InsertOpts{MaxAttempts: passbackAttempts})
}

type passback struct {
	SubmissionID   string  `db:"submission_id"`
	CourseID       string  `db:"course_id"`
	ResourceLinkID string  `db:"resource_link_id"`
	LMSUserID      string  `db:"lms_user_id"`
	ScoreGiven     float64 `db:"score_given"`
	ScoreMaximum   float64 `db:"score_maximum"`
	Comment        string  `db:"comment"`
	GradedAt       int64   `db:"graded_at"`
	PlatformID     string  `db:"platform_id"`
	AssignmentID   string  `db:"assignment_id"`
	Title          string  `db:"title"`
	LineItem       string  `db:"lineitem_url"`
	LineItems      string  `db:"lineitems_url"`
}

// sendScore posts a submission's score to its line item; an LMS that
// refuses leaves the reason on the row, and the job is retried.
func (s *Service) sendScore(ctx context.Context, submissionID string, attempt int) error {
	var pb passback
	err := s.db.Get(ctx, &pb, `SELECT b.submission_id, b.course_id, b.resource_link_id, b.lms_user_id, b.score_given, b.score_maximum,
		b.comment, b.graded_at, c.platform_id, l.assignment_id, l.title, l.lineitem_url, l.lineitems_url
		FROM lti_passbacks b JOIN lti_contexts c ON c.course_id = b.course_id
		JOIN lti_links l ON l.course_id = b.course_id AND l.resource_link_id = b.resource_link_id
		WHERE b.submission_id = ?`, submissionID)
	if store.NoRows(err) {
		return river.JobCancel(fmt.Errorf("passback of %s is gone (course unlinked or deleted)", submissionID))
	}
	if err != nil {
		return fmt.Errorf("get passback: %w", err)
	}
	err = s.postScore(ctx, &pb)
	if err != nil {
		if _, uerr := s.db.Exec(ctx, `UPDATE lti_passbacks SET status = 'failed', attempts = ?, error = ?, updated_at = ? WHERE submission_id = ?`,
			attempt, clip(err.Error(), 300), store.Now(), submissionID); uerr != nil {
			slog.ErrorContext(ctx, "record failed passback", "submission", submissionID, "err", uerr)
		}
		slog.WarnContext(ctx, "LMS refused a score", "submission", submissionID, "attempt", attempt, "err", err)
		return err
	}
	now := store.Now()
	if _, err := s.db.Exec(ctx, `UPDATE lti_passbacks SET status = 'sent', attempts = ?, error = '', sent_at = ?, updated_at = ? WHERE submission_id = ?`,
		attempt, now, now, submissionID); err != nil {
		return fmt.Errorf("record sent passback: %w", err)
	}
	return nil
}

func (s *Service) postScore(ctx context.Context, pb *passback) error {
	p, err := s.platform(ctx, pb.PlatformID)
	if err != nil {
		return err
	}
	lineitem := pb.LineItem
	if lineitem == "" {
		if lineitem, err = s.createLineItem(ctx, p, pb); err != nil {
			return err
		}
	}
	u, err := url.Parse(lineitem)
	if err != nil {
		return fmt.Errorf("line item URL %q: %w", lineitem, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/scores"
	u.RawPath = ""
	body := map[string]any{
		"userId": pb.LMSUserID, "scoreGiven": pb.ScoreGiven, "scoreMaximum": pb.ScoreMaximum, "comment": pb.Comment,
		"timestamp":        time.UnixMilli(pb.GradedAt).UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"activityProgress": "Completed", "gradingProgress": "FullyGraded",
	}
	_, _, err = s.callLMS(ctx, p, []string{scopeScore, scopeLineItem, scopeResultRead}, http.MethodPost, u.String(), typeScore, "", body)
	return err
}

// createLineItem makes the assignment's line item where the LMS gave only
// the container; it is recorded so it is made once.
func (s *Service) createLineItem(ctx context.Context, p *Platform, pb *passback) (string, error) {
	if pb.LineItems == "" {
		return "", fmt.Errorf("the LMS gave no line item for this assignment")
	}
	body := map[string]any{"scoreMaximum": pb.ScoreMaximum, "label": firstOf(pb.Title, "E-Code assignment"),
		"resourceId": pb.AssignmentID, "resourceLinkId": pb.ResourceLinkID}
	raw, _, err := s.callLMS(ctx, p, []string{scopeScore, scopeLineItem, scopeResultRead}, http.MethodPost, pb.LineItems, typeLineItem, typeLineItem, body)
	if err != nil {
		return "", err
	}
	var item struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &item); err != nil || item.ID == "" {
		return "", fmt.Errorf("the LMS answered a new line item without its id")
	}
	if _, err := s.db.Exec(ctx, `UPDATE lti_links SET lineitem_url = ? WHERE course_id = ? AND resource_link_id = ? AND lineitem_url = ''`,
		item.ID, pb.CourseID, pb.ResourceLinkID); err != nil {
		return "", fmt.Errorf("record new line item: %w", err)
	}
	return item.ID, nil
}

// lmsError is an LMS's refusal: its status and the start of its answer.
type lmsError struct {
	status int
	body   string
}

func (e *lmsError) Error() string { return fmt.Sprintf("LMS answered %d: %s", e.status, e.body) }

// callLMS sends a service request with a bearer token for scopes; a JSON
// body is sent as ctype. It returns the answer's body (at most 4 MiB) and
// headers.
func (s *Service) callLMS(ctx context.Context, p *Platform, scopes []string, method, target, ctype, accept string, body any) ([]byte, http.Header, error) {
	token, err := s.accessToken(ctx, p, scopes)
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("encode LMS request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("LMS request %s: %w", target, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("reach the LMS: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read LMS answer: %w", err)
	}
	if res.StatusCode == http.StatusUnauthorized {
		s.tokens.drop(p.ID) // revoked or expired early: the next try asks anew
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, nil, &lmsError{status: res.StatusCode, body: clip(string(raw), 200)}
	}
	return raw, res.Header, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// tokenCache keeps LMS access tokens until shortly before they expire.
type tokenCache struct {
	mu    sync.Mutex
	byKey map[string]accessToken
}

type accessToken struct {
	platformID string
	value      string
	expires    time.Time
}

func (c *tokenCache) drop(platformID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.byKey {
		if t.platformID == platformID {
			delete(c.byKey, k)
		}
	}
}

// accessToken gets a bearer token through the client-credentials grant
// with a JWT client assertion signed by the tool's key (LTI Security
// Framework §4.1).
func (s *Service) accessToken(ctx context.Context, p *Platform, scopes []string) (string, error) {
	scope := strings.Join(scopes, " ")
	key := p.ID + "\x00" + scope
	s.tokens.mu.Lock()
	t, ok := s.tokens.byKey[key]
	s.tokens.mu.Unlock()
	if ok && time.Now().Before(t.expires) {
		return t.value, nil
	}
	now := time.Now()
	assertion, err := s.sign(ctx, map[string]any{
		"iss": p.ClientID, "sub": p.ClientID, "aud": p.AuthTokenURL,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomToken(),
	})
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.AuthTokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := s.opts.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("reach the LMS token endpoint: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read LMS token: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return "", &lmsError{status: res.StatusCode, body: "token: " + clip(string(raw), 200)}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("the LMS token endpoint answered no access_token")
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	s.tokens.mu.Lock()
	s.tokens.byKey[key] = accessToken{platformID: p.ID, value: tok.AccessToken, expires: now.Add(life - min(life/10, 30*time.Second))}
	s.tokens.mu.Unlock()
	return tok.AccessToken, nil
}

// Status reports where submissions' scores stand in the LMS (for
// course.Passback): submissions never sent are absent.
func (s *Service) Status(ctx context.Context, submissionIDs []string) (map[string]course.LMSStatus, error) {
	out := map[string]course.LMSStatus{}
	for len(submissionIDs) > 0 {
		batch := submissionIDs[:min(len(submissionIDs), 500)]
		submissionIDs = submissionIDs[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		var rows []passbackRow
		if err := s.db.Select(ctx, &rows, `SELECT submission_id, user_id, status, attempts, error, sent_at FROM lti_passbacks
			WHERE submission_id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...); err != nil {
			return nil, fmt.Errorf("get passback status: %w", err)
		}
		for _, r := range rows {
			out[r.SubmissionID] = r.status()
		}
	}
	return out, nil
}

type passbackRow struct {
	SubmissionID string `db:"submission_id"`
	UserID       string `db:"user_id"`
	Status       string `db:"status"`
	Attempts     int    `db:"attempts"`
	Error        string `db:"error"`
	SentAt       int64  `db:"sent_at"`
}

func (r passbackRow) status() course.LMSStatus {
	return course.LMSStatus{Status: r.Status, Attempts: r.Attempts, Error: r.Error, SentAt: r.SentAt}
}

// RetryPassback sends a submission's score again now (teacher).
func (s *Service) RetryPassback(ctx context.Context, actor *auth.User, courseID, submissionID string) error {
	if err := s.authorize(ctx, actor, courseID, course.Teacher); err != nil {
		return err
	}
	n, err := s.db.Exec(ctx, `UPDATE lti_passbacks SET status = 'pending', updated_at = ? WHERE submission_id = ? AND course_id = ?`,
		store.Now(), submissionID, courseID)
	if err != nil {
		return fmt.Errorf("retry passback: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "This submission's score was never sent to the LMS.")
	}
	return s.queue.Insert(ctx, PassbackArgs{SubmissionID: submissionID}, &river.InsertOpts{MaxAttempts: passbackAttempts})
}
