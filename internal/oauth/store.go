package oauth

import (
	"context"
	"fmt"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const identityCols = `provider, subject, user_id, email, login, created_at`

// insertIdentity links id; a provider account is linked to one E-Code account.
func insertIdentity(ctx context.Context, db *store.DB, id *Identity) error {
	_, err := db.Exec(ctx, `INSERT INTO oauth_identities (`+identityCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		id.Provider, id.Subject, id.UserID, id.Email, id.Login, id.CreatedAt)
	if store.IsUnique(err) {
		return errIdentityTaken(names[id.Provider])
	}
	if err != nil {
		return fmt.Errorf("link identity: %w", err)
	}
	return nil
}

func identityBySubject(ctx context.Context, db *store.DB, provider, subject string) (*Identity, error) {
	var id Identity
	err := db.Get(ctx, &id, `SELECT `+identityCols+` FROM oauth_identities WHERE provider = ? AND subject = ?`, provider, subject)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_linked", "No account is linked to this %s account.", names[provider])
	}
	if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return &id, nil
}

// identitiesOf lists the providers userID has linked, oldest first.
func identitiesOf(ctx context.Context, db *store.DB, userID string) ([]Identity, error) {
	out := []Identity{}
	err := db.Select(ctx, &out, `SELECT `+identityCols+` FROM oauth_identities WHERE user_id = ? ORDER BY created_at, provider`, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	for i := range out {
		out[i].ProviderName = names[out[i].Provider]
	}
	return out, nil
}

// refreshIdentity keeps what Settings shows of a linked account current.
func refreshIdentity(ctx context.Context, db *store.DB, id *Identity) error {
	_, err := db.Exec(ctx, `UPDATE oauth_identities SET email = ?, login = ? WHERE provider = ? AND subject = ?`,
		id.Email, id.Login, id.Provider, id.Subject)
	if err != nil {
		return fmt.Errorf("refresh identity: %w", err)
	}
	return nil
}

func deleteIdentities(ctx context.Context, db *store.DB, userID, provider string) error {
	if _, err := db.Exec(ctx, `DELETE FROM oauth_identities WHERE user_id = ? AND provider = ?`, userID, provider); err != nil {
		return fmt.Errorf("unlink identity: %w", err)
	}
	return nil
}
