package project

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"unicode/utf8"

	"ecode/internal/errs"
	"ecode/internal/safefs"
)

// CleanPath checks a project-relative path from outside and returns it in
// canonical form. It refuses, rather than repairs, anything odd: absolute
// paths, "..", empty or "." segments, NUL, backslashes, invalid UTF-8, and
// the .git directory, which only the platform's history code may touch.
func CleanPath(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	bad := func(why string) (string, error) {
		return "", errs.Invalid("invalid_path", "The path %q is not allowed: %s.", truncate(p, 80), why)
	}
	switch {
	case p == "":
		return bad("it is empty")
	case len(p) > 1024:
		return bad("it is longer than 1024 bytes")
	case !utf8.ValidString(p):
		return bad("it is not valid UTF-8")
	case strings.ContainsRune(p, 0):
		return bad("it contains a NUL byte")
	case strings.ContainsRune(p, '\\'):
		return bad("use / to separate folders")
	case strings.HasPrefix(p, "/"):
		return bad("it must be relative to the project")
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "" || seg == ".":
			return bad("it has an empty or '.' segment")
		case seg == "..":
			return bad("it leads outside the project")
		case seg == ".git":
			return bad("the .git folder is managed by the platform")
		case len(seg) > 255:
			return bad("a name is longer than 255 bytes")
		}
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fileError turns an error from the project's os.Root into a domain error.
func fileError(err error, path string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errs.NotFound("not_found", "No file or folder %q in this project.", path).With(err)
	case errors.Is(err, fs.ErrExist):
		return errs.Conflict("exists", "%q already exists.", path).With(err)
	case strings.Contains(err.Error(), "path escapes from parent"):
		// os.Root refused to follow a symlink out of the project.
		return errs.Invalid("invalid_path", "The path %q leads outside the project through a link.", path).With(err)
	case errors.Is(err, syscall.ENOTDIR):
		return errs.Invalid("invalid_path", "A part of %q is a file, not a folder.", path).With(err)
	case errors.Is(err, syscall.EISDIR):
		return errs.Invalid("is_directory", "%q is a folder; list the project's files instead.", path).With(err)
	case errors.Is(err, safefs.ErrLink):
		return errs.Invalid("invalid_path", "%q is a link, or leads through one out of the project; open the file it points to.", path).With(err)
	case errors.Is(err, safefs.ErrNotRegular):
		return errs.Invalid("not_a_file", "%q is not a regular file (a pipe, socket or device).", path).With(err)
	}
	return err
}
