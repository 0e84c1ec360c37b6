package project

import (
	"context"
	"strconv"

	"ecode/internal/auth"
)

// ByID returns project id with no caller's access checked: for a
// capability that decides on its own who may reach the project (a course
// hands its starter project to its teachers).
func (s *Service) ByID(ctx context.Context, id string) (*Project, error) {
	p, err := projectByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return decorate(p, nil), nil
}

// CopyFor copies project fromID, as Fork does, into owner's account as a
// private project called name, without asking whether owner may read the
// source: the calling capability has decided that (a course gives each
// student a copy of the teacher's starter). When owner already has a
// project at name's slug, a number is added to it.
func (s *Service) CopyFor(ctx context.Context, owner *auth.User, fromID, name string) (*Project, error) {
	if owner == nil {
		return nil, auth.ErrUnauthenticated
	}
	src, err := projectByID(ctx, s.db, fromID)
	if err != nil {
		return nil, err
	}
	if name, err = checkName(name); err != nil {
		return nil, err
	}
	slug, err := s.freeSlug(ctx, owner.ID, Slugify(name))
	if err != nil {
		return nil, err
	}
	return s.copyAs(ctx, src, owner, slug, name, "project copied")
}

// freeSlug returns slug, or slug-2, slug-3... the first that ownerID has
// no project at.
func (s *Service) freeSlug(ctx context.Context, ownerID, slug string) (string, error) {
	for n := 1; n <= 100; n++ {
		try := slug
		if n > 1 {
			suffix := "-" + strconv.Itoa(n)
			try = slug[:min(len(slug), 48-len(suffix))] + suffix
		}
		taken, err := slugTaken(ctx, s.db, ownerID, try)
		if err != nil {
			return "", err
		}
		if !taken {
			return try, nil
		}
	}
	return "", errSlugTaken(slug)
}
