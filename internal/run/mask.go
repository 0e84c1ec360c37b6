package run

import "io"

// MaskedWriter is an output stream with the project's secrets masked;
// Flush passes on what it held back once the stream has ended.
type MaskedWriter interface {
	io.Writer
	Flush() error
}

// Masked returns a writer that masks, in what it passes to dst, every value
// of env (NAME=value) as run output is masked: for other capabilities that
// show sandbox output, such as a deploy's build log.
func Masked(env []string, dst io.Writer) MaskedWriter { return newMasker(env).Writer(dst) }
