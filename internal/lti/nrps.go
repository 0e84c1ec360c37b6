package lti

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/course"
	"ecode/internal/errs"
	"ecode/internal/store"
)

const typeMemberships = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

// maxRosterPages bounds how many pages of a roster are followed, so an LMS
// whose next link loops cannot keep a sync going forever.
const maxRosterPages = 200

var errNotInCourse = errs.NotFound("not_found", "No such course.")

// authorize lets members with one of roles through; others see no course.
func (s *Service) authorize(ctx context.Context, actor *auth.User, courseID string, roles ...course.Role) error {
	if actor == nil {
		return auth.ErrUnauthenticated
	}
	r, err := s.courses.Role(ctx, courseID, actor.ID)
	if errs.Is(err, errs.KindNotFound) {
		return errNotInCourse
	}
	if err != nil {
		return err
	}
	for _, want := range roles {
		if r == want {
			return nil
		}
	}
	if r == course.Student {
		return errNotInCourse
	}
	return errs.Forbidden("forbidden", "Only the course's teachers can do that.")
}

type linkedContext struct {
	PlatformID     string `db:"platform_id"`
	ContextID      string `db:"context_id"`
	MembershipsURL string `db:"memberships_url"`
	LastRosterSync int64  `db:"last_roster_sync"`
}

func (s *Service) linked(ctx context.Context, courseID string) (*linkedContext, error) {
	var lc linkedContext
	err := s.db.Get(ctx, &lc, `SELECT platform_id, context_id, memberships_url, last_roster_sync FROM lti_contexts WHERE course_id = ?`, courseID)
	if store.NoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get course link: %w", err)
	}
	return &lc, nil
}

// CourseLMS is a course's standing with its LMS.
type CourseLMS struct {
	Linked         bool         `json:"linked"`
	Platform       *PlatformRef `json:"platform"`
	ContextID      string       `json:"contextId"`
	LastRosterSync *int64       `json:"lastRosterSync"`
	Passbacks      []PassbackAt `json:"passbacks"`
}

// PlatformRef names a platform.
type PlatformRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PassbackAt is one submission's score on its way to the LMS.
type PassbackAt struct {
	SubmissionID string `json:"submissionId"`
	Username     string `json:"username"`
	course.LMSStatus
}

// CourseStatus answers teachers and TAs where the course stands with its LMS.
func (s *Service) CourseStatus(ctx context.Context, actor *auth.User, courseID string) (*CourseLMS, error) {
	if err := s.authorize(ctx, actor, courseID, course.Teacher, course.Assistant); err != nil {
		return nil, err
	}
	out := &CourseLMS{Passbacks: []PassbackAt{}}
	lc, err := s.linked(ctx, courseID)
	if err != nil || lc == nil {
		return out, err
	}
	out.Linked, out.ContextID = true, lc.ContextID
	if lc.LastRosterSync != 0 {
		out.LastRosterSync = &lc.LastRosterSync
	}
	if p, err := s.platform(ctx, lc.PlatformID); err == nil {
		out.Platform = &PlatformRef{ID: p.ID, Name: p.Name}
	} else if !errs.Is(err, errs.KindNotFound) {
		return nil, err
	}
	var rows []passbackRow
	if err := s.db.Select(ctx, &rows, `SELECT submission_id, user_id, status, attempts, error, sent_at FROM lti_passbacks
		WHERE course_id = ? ORDER BY updated_at DESC LIMIT 200`, courseID); err != nil {
		return nil, fmt.Errorf("list passbacks: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	names, err := s.accounts.Usernames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out.Passbacks = append(out.Passbacks, PassbackAt{SubmissionID: r.SubmissionID, Username: names[r.UserID], LMSStatus: r.status()})
	}
	return out, nil
}

// RosterChange counts what a roster sync did.
type RosterChange struct {
	Added   int `json:"added"`
	Updated int `json:"updated"`
	Removed int `json:"removed"`
}

type member struct {
	UserID     string   `json:"user_id"`
	Status     string   `json:"status"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`
	Email      string   `json:"email"`
	Roles      []string `json:"roles"`
}

// SyncRoster brings the course's people in line with the LMS's roster
// (Names and Role Provisioning Services 2.0): new members get accounts
// and enrollments, roles follow the LMS. Members gone or inactive there
// are counted as removed; their enrollment goes only when a sync made it
// (their work stays).
func (s *Service) SyncRoster(ctx context.Context, actor *auth.User, courseID string) (*RosterChange, error) {
	if err := s.authorize(ctx, actor, courseID, course.Teacher); err != nil {
		return nil, err
	}
	lc, err := s.linked(ctx, courseID)
	if err != nil {
		return nil, err
	}
	if lc == nil || lc.MembershipsURL == "" {
		return nil, errs.Conflict("no_roster_service", "The LMS has not offered this course's roster; open E-Code from the LMS course as an instructor first.")
	}
	p, err := s.platform(ctx, lc.PlatformID)
	if err != nil {
		return nil, err
	}
	members, err := s.fetchRoster(ctx, p, lc.MembershipsURL)
	if err != nil {
		if e, ok := err.(*lmsError); ok {
			return nil, errs.Unavailable("lms_refused", "The LMS refused the roster: %s", e.Error())
		}
		return nil, err
	}
	var synced []string
	if err := s.db.Select(ctx, &synced, `SELECT user_id FROM lti_synced_members WHERE course_id = ?`, courseID); err != nil {
		return nil, fmt.Errorf("list synced members: %w", err)
	}
	bySync := map[string]bool{}
	for _, id := range synced {
		bySync[id] = true
	}
	var ch RosterChange
	present := map[string]bool{}
	for _, m := range members {
		if m.UserID == "" || m.Status == "Inactive" || m.Status == "Deleted" {
			continue // an inactive member counts as gone below
		}
		u, err := s.account(ctx, p, m.UserID, m.Name, m.GivenName, m.Email)
		if err != nil {
			return nil, err
		}
		present[u.ID] = true
		role, ok := roleOf(m.Roles)
		if !ok {
			role = course.Student
		}
		old, err := s.courses.Role(ctx, courseID, u.ID)
		switch {
		case errs.Is(err, errs.KindNotFound):
			ch.Added++
			if _, err := s.db.Exec(ctx, `INSERT INTO lti_synced_members (course_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, courseID, u.ID); err != nil {
				return nil, fmt.Errorf("record synced member: %w", err)
			}
		case err != nil:
			return nil, err
		case old == role:
			continue
		default:
			ch.Updated++
		}
		if err := s.courses.Enroll(ctx, courseID, u, role); err != nil {
			return nil, err
		}
	}
	// Those the LMS no longer lists (or lists as inactive).
	var linkedUsers []string
	if err := s.db.Select(ctx, &linkedUsers, `SELECT user_id FROM lti_users WHERE platform_id = ?`, p.ID); err != nil {
		return nil, fmt.Errorf("list LMS people: %w", err)
	}
	for _, id := range linkedUsers {
		if present[id] || id == actor.ID {
			continue
		}
		if _, err := s.courses.Role(ctx, courseID, id); err != nil {
			continue // not in this course
		}
		ch.Removed++
		if !bySync[id] {
			continue
		}
		if err := s.courses.RemoveMember(ctx, actor, courseID, id); err != nil && !errs.Is(err, errs.KindNotFound) && !errs.Is(err, errs.KindConflict) {
			return nil, err
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM lti_synced_members WHERE course_id = ? AND user_id = ?`, courseID, id); err != nil {
			return nil, fmt.Errorf("forget synced member: %w", err)
		}
	}
	if _, err := s.db.Exec(ctx, `UPDATE lti_contexts SET last_roster_sync = ? WHERE course_id = ?`, store.Now(), courseID); err != nil {
		return nil, fmt.Errorf("record roster sync: %w", err)
	}
	s.audit.Record(ctx, actor.AuditActor(), "lti.roster_sync", audit.Target("course", courseID),
		map[string]any{"added": ch.Added, "updated": ch.Updated, "removed": ch.Removed})
	return &ch, nil
}

var nextLink = regexp.MustCompile(`<([^>]+)>\s*;[^,]*rel="?next"?`)

// fetchRoster reads every page of the membership container.
func (s *Service) fetchRoster(ctx context.Context, p *Platform, first string) ([]member, error) {
	var all []member
	next := first
	for page := 0; next != ""; page++ {
		if page == maxRosterPages {
			return nil, errs.Unavailable("lms_roster_too_long", "The LMS's roster has more than %d pages.", maxRosterPages)
		}
		raw, hdr, err := s.callLMS(ctx, p, []string{scopeMembership}, http.MethodGet, next, "", typeMemberships, nil)
		if err != nil {
			return nil, err
		}
		var body struct {
			Members []member `json:"members"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, errs.Unavailable("lms_roster_invalid", "The LMS's roster is not a membership container: %v.", err)
		}
		all = append(all, body.Members...)
		next = ""
		for _, l := range hdr.Values("Link") {
			if m := nextLink.FindStringSubmatch(l); m != nil {
				base, _ := url.Parse(first)
				ref, err := url.Parse(m[1])
				if err != nil || base == nil {
					return nil, errs.Unavailable("lms_roster_invalid", "The LMS's next-page link %q is not a URL.", m[1])
				}
				next = base.ResolveReference(ref).String()
			}
		}
	}
	return all, nil
}
