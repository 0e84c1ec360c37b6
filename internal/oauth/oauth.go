// Package oauth lets people log in with an account they have elsewhere:
// GitHub, Google, GitLab, Bitbucket, Discord, Slack and Microsoft Entra ID,
// each offered once the operator registers this server there.
//
// What it guarantees: every dance is bound to the browser that started it
// (a one-time state and a PKCE verifier kept in that browser's session,
// plus a nonce in the id_token of OpenID Connect providers); an email
// address is used only when the provider says it is verified; and an
// existing E-Code account is never entered through a provider it has not
// linked, whatever email the provider reports: its owner logs in with their
// password and links the provider from Settings. A linked provider counts
// as a way to log in, so the last one is never unlinked.
package oauth

import (
	"regexp"
	"strings"

	"ecode/internal/auth"
	"ecode/internal/errs"
)

// Identity is an account at a provider linked to an E-Code account.
type Identity struct {
	Provider     string `json:"provider" db:"provider"`
	ProviderName string `json:"providerName" db:"-"`
	Subject      string `json:"-" db:"subject"`
	UserID       string `json:"-" db:"user_id"`
	Email        string `json:"email" db:"email"` // verified at the provider, or ""
	Login        string `json:"login" db:"login"` // the name the person goes by there
	CreatedAt    int64  `json:"createdAt" db:"created_at"`
}

// Profile is what a provider tells about the person who just logged in.
type Profile struct {
	Subject       string // stable and unique at the provider
	Email         string
	EmailVerified bool
	Login         string // shown in Settings
	Username      string // the source of a username suggestion
}

// names are the providers' display names; identities of providers the
// operator has since disabled still show with them.
var names = map[string]string{
	"github":    "GitHub",
	"google":    "Google",
	"gitlab":    "GitLab",
	"bitbucket": "Bitbucket",
	"discord":   "Discord",
	"slack":     "Slack",
	"azuread":   "Microsoft",
}

var (
	errUnknownProvider = errs.NotFound("unknown_provider", "No such login provider on this server.")
	errState           = errs.Invalid("oauth_state", "That sign-in expired or did not start in this browser; try again.")
	errNoPending       = errs.Unauthenticated("no_pending_signup", "Your sign-in with the provider expired; start again from the login page.")
	errRelogin         = errs.Unauthenticated("unauthenticated", "Log in again, then link the account.")
)

func errDenied(name string) *errs.Error {
	return errs.Forbidden("oauth_denied", "Signing in with %s was cancelled.", name)
}

func errFailed(name string) *errs.Error {
	return errs.Unavailable("oauth_failed", "%s did not confirm the sign-in; try again.", name)
}

func errUnreachable(name string) *errs.Error {
	return errs.Unavailable("provider_unavailable", "E-Code could not reach %s; try again in a minute.", name)
}

func errEmailExists(name string) *errs.Error {
	return errs.Conflict("email_exists",
		"An E-Code account already uses the email of your %s account. Log in with your password, then link %s in Settings.", name, name)
}

func errEmailUnverified(name string) *errs.Error {
	return errs.Invalid("email_unverified",
		"%s has not verified your email address, so E-Code cannot use it. Verify it at %s and try again, or sign up with an email and password.", name, name)
}

func errIdentityTaken(name string) *errs.Error {
	return errs.Conflict("identity_taken", "This %s account is linked to another E-Code account.", name)
}

func errAlreadyLinked(name string) *errs.Error {
	return errs.Conflict("already_linked", "You have linked another %s account; unlink it first.", name)
}

var notUsername = regexp.MustCompile(`[^a-z0-9_-]+`)

// suggestUsername turns a provider's name for the person (a login, or an
// email whose local part is used) into an available-looking username, or
// "" when nothing usable is left.
func suggestUsername(s string) string {
	s, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	s = strings.TrimLeft(notUsername.ReplaceAllString(s, "-"), "-_")
	if len(s) > 32 {
		s = s[:32]
	}
	s = strings.TrimRight(s, "-_")
	name, err := auth.NormalizeUsername(s)
	if err != nil {
		return ""
	}
	return name
}
