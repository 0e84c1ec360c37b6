package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// deviceCodes is the server's answer to POST /api/auth/device/code.
type deviceCodes struct {
	DeviceCode              string `json:"deviceCode"`
	UserCode                string `json:"userCode"`
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete"`
	ExpiresIn               int    `json:"expiresIn"`
	Interval                int    `json:"interval"`
}

// deviceLogin gets an API token from host through its person's browser
// (RFC 8628): it asks for a code, says where to enter it, opens that page
// when openBrowser, and polls until the login is approved, denied or
// expired, or ctx ends.
func (a *app) deviceLogin(ctx context.Context, host string, openBrowser bool) (string, error) {
	c := &Client{Host: host, HTTP: a.env.HTTP}
	var codes deviceCodes
	if err := c.JSON(ctx, "POST", "/api/auth/device/code", map[string]string{"clientName": clientName()}, &codes); err != nil {
		return "", err
	}
	fmt.Fprintf(a.env.Stderr, "Open %s and enter %s\n", codes.VerificationURI, codes.UserCode)
	fmt.Fprintf(a.env.Stderr, "  (or open %s, with the code filled in)\n", codes.VerificationURIComplete)
	if openBrowser && a.openBrowser(codes.VerificationURIComplete) == nil {
		fmt.Fprintln(a.env.Stderr, "Opening it in your browser.")
	}
	fmt.Fprintln(a.env.Stderr, "Waiting for you to approve this login in the browser (Ctrl-C to stop)...")

	interval := time.Duration(max(codes.Interval, 1)) * time.Second
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("login stopped: %w", ctx.Err())
		case <-timer.C:
		}
		var out struct{ Token string }
		err := c.JSON(ctx, "POST", "/api/auth/device/token", map[string]string{"deviceCode": codes.DeviceCode}, &out)
		var ae *APIError
		if err != nil && !errors.As(err, &ae) {
			return "", err
		}
		switch {
		case err == nil:
			return out.Token, nil
		case ae.Code == "authorization_pending":
		case ae.Code == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5: for this and every later poll
		case ae.Code == "expired_token":
			return "", &exitError{code: ExitAuth, err: errors.New("the code expired before the login was approved; run ecode login again for a new one")}
		case ae.Code == "access_denied":
			return "", &exitError{code: ExitRefused, err: errors.New("the login was denied in the browser")}
		default:
			return "", err
		}
		timer.Reset(interval)
	}
}

// clientName is how the server names this login's token: the program and
// the machine it runs on.
func clientName() string {
	name := "ecode CLI"
	if h, err := os.Hostname(); err == nil && h != "" {
		name += " on " + h
	}
	for utf8.RuneCountInString(name) > 64 { // the server's limit
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// openBrowser starts a browser at url without waiting for it: each
// command of $BROWSER in turn (a list separated by colons, where %s
// stands for the URL, else the URL is the last argument), else the
// system's opener.
func (a *app) openBrowser(url string) error {
	var cmds [][]string
	if b := a.getenv("BROWSER"); b != "" {
		for _, line := range strings.Split(b, ":") {
			args := strings.Fields(line)
			if len(args) == 0 {
				continue
			}
			if strings.Contains(line, "%s") {
				for i := range args {
					args[i] = strings.ReplaceAll(args[i], "%s", url)
				}
			} else {
				args = append(args, url)
			}
			cmds = append(cmds, args)
		}
	}
	switch runtime.GOOS {
	case "darwin":
		cmds = append(cmds, []string{"open", url})
	case "windows":
		cmds = append(cmds, []string{"rundll32", "url.dll,FileProtocolHandler", url})
	default:
		cmds = append(cmds, []string{"xdg-open", url})
	}
	err := errors.New("no browser to open")
	for _, args := range cmds {
		cmd := exec.Command(args[0], args[1:]...)
		if err = cmd.Start(); err == nil {
			go cmd.Wait() // reaps the opener; a browser it starts lives on its own
			return nil
		}
	}
	return fmt.Errorf("open a browser: %w", err)
}
