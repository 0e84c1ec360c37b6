package lti

import (
	"testing"
	"time"

	"ecode/internal/course"
	"ecode/internal/errs"
)

func TestRoleOf(t *testing.T) {
	for _, c := range []struct {
		roles []string
		want  course.Role
		ok    bool
	}{
		{[]string{lisMembership + "#Learner"}, course.Student, true},
		{[]string{lisMembership + "#Learner", lisMembership + "#Instructor"}, course.Teacher, true},
		{[]string{lisMembership + "/Instructor#TeachingAssistant"}, course.Assistant, true},
		{[]string{"TeachingAssistant", "Learner"}, course.Assistant, true},
		{[]string{"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"}, "", false},
		{nil, "", false},
	} {
		if got, ok := roleOf(c.roles); got != c.want || ok != c.ok {
			t.Errorf("roleOf(%v) = %q, %v; want %q, %v", c.roles, got, ok, c.want, c.ok)
		}
	}
}

func TestCheckClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	p := &Platform{Issuer: "https://lms.test", ClientID: "tool", DeploymentIDs: []string{"d1"}}
	good := func() *Claims {
		c := &Claims{Issuer: p.Issuer, Audience: audience{"tool"}, Subject: "u1", Expires: float64(now.Unix() + 300),
			IssuedAt: float64(now.Unix()), Nonce: "n1", MessageType: msgResourceLink, Version: ltiVersion, DeploymentID: "d1"}
		c.Context = &struct {
			ID    string `json:"id"`
			Label string `json:"label"`
			Title string `json:"title"`
		}{ID: "ctx"}
		c.ResourceLink = &struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}{ID: "rl"}
		return c
	}
	if err := checkClaims(p, good(), "n1", now); err != nil {
		t.Fatalf("good claims refused: %v", err)
	}
	skewed := good()
	skewed.Expires = float64(now.Unix() - 30) // within the minute of skew
	if err := checkClaims(p, skewed, "n1", now); err != nil {
		t.Fatalf("claims within the clock skew refused: %v", err)
	}
	for name, spoil := range map[string]func(c *Claims){
		"issuer":         func(c *Claims) { c.Issuer = "https://other.test" },
		"audience":       func(c *Claims) { c.Audience = audience{"other"} },
		"azp missing":    func(c *Claims) { c.Audience = audience{"tool", "other"} },
		"azp wrong":      func(c *Claims) { c.Audience, c.AZP = audience{"tool", "other"}, "other" },
		"expired":        func(c *Claims) { c.Expires = float64(now.Unix() - 61) },
		"future":         func(c *Claims) { c.IssuedAt = float64(now.Unix() + 120) },
		"nonce":          func(c *Claims) { c.Nonce = "n2" },
		"no subject":     func(c *Claims) { c.Subject = "" },
		"deployment":     func(c *Claims) { c.DeploymentID = "d2" },
		"version":        func(c *Claims) { c.Version = "1.1" },
		"message type":   func(c *Claims) { c.MessageType = "LtiSubmissionReviewRequest" },
		"no context":     func(c *Claims) { c.Context = nil },
		"no link":        func(c *Claims) { c.ResourceLink = nil },
		"no dl settings": func(c *Claims) { c.MessageType = msgDeepLinking },
	} {
		c := good()
		spoil(c)
		err := checkClaims(p, c, "n1", now)
		if e, ok := errs.As(err); !ok || e.Code != "invalid_launch" {
			t.Errorf("%s: %v, want invalid_launch", name, err)
		}
	}
}

func TestPassbackBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 12: 30 * time.Minute} {
		if got := passbackBackoff(attempt); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
}

func TestSuggestUsername(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"Zoë", "Zoë Smith"}, "zo-smith"},
		{[]string{"", "Ada Lovelace"}, "ada-lovelace"},
		{[]string{"Al", "", "al.b"}, "al-b"},
		{[]string{"admin"}, "student"},
		{[]string{"李"}, "student"},
	} {
		if got := suggestUsername(c.names...); got != c.want {
			t.Errorf("suggestUsername(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}
