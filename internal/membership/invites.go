package membership

import (
	"context"
	"fmt"
	"slices"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// CreateInvite makes a link that puts whoever opens it in place id as
// role until hours from now.
func (s *Service) CreateInvite(ctx context.Context, k *Kind, actor *auth.User, id, role string, hours int) (*Link, error) {
	p, err := k.Find(ctx, actor, id, true)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(k.LinkRoles, role) {
		return nil, errs.Invalid("invalid_role", "%s", k.LinkHint)
	}
	link, err := k.createLink(ctx, s.db, p.ID, role, actor.ID, hours)
	if err != nil {
		return nil, err
	}
	s.record(ctx, k, p, actor, "invite.create", map[string]any{"invite": link.ID, "role": role, "expiresAt": link.ExpiresAt})
	return link, nil
}

// RevokeInvite deletes invite link linkID to place id.
func (s *Service) RevokeInvite(ctx context.Context, k *Kind, actor *auth.User, id, linkID string) error {
	p, err := k.Find(ctx, actor, id, true)
	if err != nil {
		return err
	}
	if err := k.revokeLink(ctx, s.db, p.ID, linkID); err != nil {
		return err
	}
	s.record(ctx, k, p, actor, "invite.revoke", map[string]any{"invite": linkID})
	return nil
}

// open finds the link token and its place, and admits the request by the
// place's team before anything else is read or written.
func (s *Service) open(ctx context.Context, k *Kind, token string) (*found, *Place, error) {
	f, err := k.findLink(ctx, s.db, token)
	if err != nil {
		return nil, nil, err
	}
	p, err := k.Lookup(ctx, f.PlaceID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.roles.AdmitTeam(ctx, p.Team); err != nil {
		return nil, nil, err
	}
	return f, p, nil
}

// Invitation is what someone opening link token is shown: the place
// (under the kind's name), the role and who made the link.
func (s *Service) Invitation(ctx context.Context, k *Kind, token string) (map[string]any, error) {
	f, p, err := s.open(ctx, k, token)
	if err != nil {
		return nil, err
	}
	return map[string]any{k.Name: p.Shown, "role": f.Role, "invitedBy": f.InvitedBy, "expiresAt": f.ExpiresAt}, nil
}

// AcceptInvite puts actor in the place link token leads to; an owner,
// or a member with a role as strong, keeps what they have.
func (s *Service) AcceptInvite(ctx context.Context, k *Kind, actor *auth.User, token string) (any, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	f, p, err := s.open(ctx, k, token)
	if err != nil {
		return nil, err
	}
	if p.Owner == nil || p.Owner.UserID != actor.ID {
		if err := s.join(ctx, k, actor, p, f.Role); err != nil {
			return nil, err
		}
	}
	return k.Joined(ctx, actor, p)
}

// join gives actor role on p, unless they hold a role as strong.
func (s *Service) join(ctx context.Context, k *Kind, actor *auth.User, p *Place, role string) error {
	current := ""
	switch m, err := s.member(ctx, k, p.ID, actor.ID); {
	case err == nil:
		current = m.Role
	case !errs.Is(err, errs.KindNotFound):
		return err
	}
	var err error
	switch {
	case current == "":
		_, err = s.db.Exec(ctx, `INSERT INTO `+k.Table+` (`+k.Column+`, user_id, role, created_at) VALUES (?, ?, ?, ?)`, p.ID, actor.ID, role, store.Now())
	case k.rank(role) > k.rank(current):
		_, err = s.db.Exec(ctx, `UPDATE `+k.Table+` SET role = ? WHERE `+k.Column+` = ? AND user_id = ?`, role, p.ID, actor.ID)
	default:
		return nil
	}
	if store.IsUnique(err) {
		return nil // joined a moment ago, through another request
	}
	if err != nil {
		return fmt.Errorf("accept %s invite: %w", k.Name, err)
	}
	s.record(ctx, k, p, actor, "invite.accept", map[string]any{"role": role})
	k.Changed(ctx, p.ID, actor.ID) // open tabs reconnect with the role
	return nil
}
