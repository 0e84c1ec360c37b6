package oauth

import (
	"testing"

	"ecode/internal/auth"
)

// FuzzSuggestUsername: whatever a provider calls a person, the suggestion
// is a valid username or nothing.
func FuzzSuggestUsername(f *testing.F) {
	for _, s := range []string{"OctoCat", "jane.doe@example.com", "Ada Lovelace", "admin", "__x", "ünïcødé", "a-", "x" + string(make([]byte, 40))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := suggestUsername(s)
		if got == "" {
			return
		}
		if n, err := auth.NormalizeUsername(got); err != nil || n != got {
			t.Fatalf("suggestUsername(%q) = %q, not a username", s, got)
		}
	})
}

func TestSuggestUsername(t *testing.T) {
	for in, want := range map[string]string{
		"OctoCat": "octocat", "jane.doe@example.com": "jane-doe", "Ada Lovelace": "ada-lovelace",
		"admin": "", "x": "", "-_-bob_": "bob", "Ünïcode": "n-code",
	} {
		if got := suggestUsername(in); got != want {
			t.Errorf("suggestUsername(%q) = %q, want %q", in, got, want)
		}
	}
}
