package lti

import (
	"context"
	"fmt"
	"time"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/course"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// deepLinkTTL is how long a teacher has to pick what to place in the LMS.
const deepLinkTTL = 30 * time.Minute

type deepLink struct {
	Token        string `db:"token"`
	PlatformID   string `db:"platform_id"`
	CourseID     string `db:"course_id"`
	UserID       string `db:"user_id"`
	DeploymentID string `db:"deployment_id"`
	ReturnURL    string `db:"return_url"`
	Data         string `db:"data"`
	CreatedAt    int64  `db:"created_at"`
	UsedAt       int64  `db:"used_at"`
}

// saveDeepLink keeps a deep-linking request's settings under a one-time token.
func (s *Service) saveDeepLink(ctx context.Context, p *Platform, courseID string, u *auth.User, c *Claims) (string, error) {
	dl := deepLink{Token: randomToken(), PlatformID: p.ID, CourseID: courseID, UserID: u.ID, DeploymentID: c.DeploymentID,
		ReturnURL: c.DeepLinking.ReturnURL, Data: c.DeepLinking.Data, CreatedAt: store.Now()}
	_, err := s.db.Exec(ctx, `INSERT INTO lti_deep_links (token, platform_id, course_id, user_id, deployment_id, return_url, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, dl.Token, dl.PlatformID, dl.CourseID, dl.UserID, dl.DeploymentID, dl.ReturnURL, dl.Data, dl.CreatedAt)
	if err != nil {
		return "", fmt.Errorf("keep deep-linking request: %w", err)
	}
	return dl.Token, nil
}

// deepLinkFor returns the waiting request of token, which only the
// teacher who launched it may answer.
func (s *Service) deepLinkFor(ctx context.Context, actor *auth.User, token string) (*deepLink, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	var dl deepLink
	err := s.db.Get(ctx, &dl, `SELECT token, platform_id, course_id, user_id, deployment_id, return_url, data, created_at, used_at
		FROM lti_deep_links WHERE token = ?`, token)
	if store.NoRows(err) || (err == nil && dl.UserID != actor.ID) {
		return nil, errs.NotFound("not_found", "No such deep-linking request; start again from the LMS.")
	}
	if err != nil {
		return nil, fmt.Errorf("get deep-linking request: %w", err)
	}
	if dl.UsedAt != 0 || time.Since(time.UnixMilli(dl.CreatedAt)) > deepLinkTTL {
		return nil, errs.Gone("deep_link_expired", "This selection was answered or is older than 30 minutes; start again from the LMS.")
	}
	if r, err := s.courses.Role(ctx, dl.CourseID, actor.ID); err != nil || r != course.Teacher {
		return nil, errs.NotFound("not_found", "No such deep-linking request; start again from the LMS.")
	}
	return &dl, nil
}

// DeepLinkChoice is what a teacher picks from.
type DeepLinkChoice struct {
	Course      CourseRef       `json:"course"`
	Assignments []AssignmentRef `json:"assignments"`
	ReturnURL   string          `json:"returnUrl"`
}

// CourseRef names a course.
type CourseRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AssignmentRef names an assignment.
type AssignmentRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// DeepLinkOptions returns the course's assignments for a waiting request.
func (s *Service) DeepLinkOptions(ctx context.Context, actor *auth.User, token string) (*DeepLinkChoice, error) {
	dl, err := s.deepLinkFor(ctx, actor, token)
	if err != nil {
		return nil, err
	}
	crs, err := s.courses.CourseOf(ctx, dl.CourseID)
	if err != nil {
		return nil, err
	}
	as, err := s.courses.AssignmentsFor(ctx, actor, dl.CourseID)
	if err != nil {
		return nil, err
	}
	out := &DeepLinkChoice{Course: CourseRef{ID: crs.ID, Name: crs.Name}, Assignments: []AssignmentRef{}, ReturnURL: dl.ReturnURL}
	for _, a := range as {
		out.Assignments = append(out.Assignments, AssignmentRef{ID: a.ID, Title: a.Title})
	}
	return out, nil
}

// DeepLinkResponse answers a waiting request with the chosen assignments:
// the signed LtiDeepLinkingResponse the browser posts (as JWT) to returnURL.
func (s *Service) DeepLinkResponse(ctx context.Context, actor *auth.User, token string, assignmentIDs []string) (returnURL, jwt string, err error) {
	dl, err := s.deepLinkFor(ctx, actor, token)
	if err != nil {
		return "", "", err
	}
	p, err := s.platform(ctx, dl.PlatformID)
	if err != nil {
		return "", "", err
	}
	as, err := s.courses.AssignmentsFor(ctx, actor, dl.CourseID)
	if err != nil {
		return "", "", err
	}
	byID := map[string]course.Assignment{}
	for _, a := range as {
		byID[a.ID] = a
	}
	items := []map[string]any{}
	for _, id := range assignmentIDs {
		a, ok := byID[id]
		if !ok {
			return "", "", errs.Invalid("unknown_assignment", "Assignment %q is not in this course.", id)
		}
		items = append(items, map[string]any{
			"type": "ltiResourceLink", "title": a.Title, "url": s.launchURL(),
			"custom":   map[string]string{"assignment_id": a.ID},
			"lineItem": map[string]any{"scoreMaximum": a.MaxScore, "label": a.Title, "resourceId": a.ID},
		})
	}
	n, err := s.db.Exec(ctx, `UPDATE lti_deep_links SET used_at = ? WHERE token = ? AND used_at = 0`, store.Now(), token)
	if err != nil {
		return "", "", fmt.Errorf("spend deep-linking request: %w", err)
	}
	if n == 0 {
		return "", "", errs.Gone("deep_link_expired", "This selection was answered already; start again from the LMS.")
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.ClientID, "aud": p.Issuer, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "nonce": randomToken(),
		claimDeploymentID: dl.DeploymentID, claimMessageType: msgDLResponse, claimVersion: ltiVersion, claimDLItems: items,
	}
	if dl.Data != "" {
		claims[claimDLData] = dl.Data
	}
	jwt, err = s.sign(ctx, claims)
	if err != nil {
		return "", "", err
	}
	s.audit.Record(ctx, actor.AuditActor(), "lti.deep_link", audit.Target("course", dl.CourseID), map[string]any{"assignments": assignmentIDs})
	return dl.ReturnURL, jwt, nil
}
