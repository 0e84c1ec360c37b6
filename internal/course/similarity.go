package course

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"ecode/internal/auth"
	"ecode/internal/safefs"
)

const (
	// SimilarityThreshold flags a pair of submissions this alike.
	SimilarityThreshold = 0.8
	kgram               = 5 // tokens per fingerprinted k-gram
	window              = 4 // winnowing window, in k-grams
	maxSourceFile       = 256 << 10
	maxSourceTotal      = 2 << 20
	maxCompared         = 400 // students; pairs grow with the square
)

// sourceExt are the files compared; data and lock files are not the work.
var sourceExt = map[string]bool{".py": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".jsx": true, ".tsx": true,
	".go": true, ".java": true, ".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".rb": true, ".rs": true, ".cs": true,
	".php": true, ".kt": true, ".swift": true, ".scala": true, ".sh": true}

// Side is one submission of a similar pair.
type Side struct {
	UserID       string `json:"userId"`
	Username     string `json:"username"`
	SubmissionID string `json:"submissionId"`
}

// Pair is two students' latest submissions and how alike they are (0..1).
type Pair struct {
	A     Side    `json:"a"`
	B     Side    `json:"b"`
	Score float64 `json:"score"`
}

// Similarity compares each student's latest submission of an assignment
// with every other's and returns the pairs at or over the threshold, most
// alike first. Code is compared as tokens (comments and layout do not
// count) by winnowed k-gram fingerprints (Schleimer, Wilkerson and Aiken,
// as in MOSS); the teacher's test files and whatever the starter already
// held are left out, so shared starter code does not make everyone alike.
func (s *Service) Similarity(ctx context.Context, actor *auth.User, courseID, assignmentID string) ([]Pair, error) {
	if _, err := s.as(ctx, actor, courseID, Teacher, Assistant); err != nil {
		return nil, err
	}
	a, err := s.assignment(ctx, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	list, err := s.submissions(ctx, `s.assignment_id = ? ORDER BY s.submitted_at DESC, s.id DESC`, a.ID)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, t := range a.Tests {
		skip[t.Path] = true
	}
	var starter map[uint64]bool
	if a.StarterProjectID != "" {
		if starter, err = fingerprintDir(s.projects.Dir(a.StarterProjectID), skip); err != nil {
			return nil, err
		}
	}
	type print struct {
		side Side
		fp   map[uint64]bool
	}
	var prints []print
	seen := map[string]bool{}
	for _, sub := range list { // newest first: the first met is each student's latest
		if seen[sub.UserID] || len(prints) >= maxCompared {
			continue
		}
		seen[sub.UserID] = true
		fp, err := fingerprintDir(s.submissionDir(courseID, sub.ID), skip)
		if err != nil {
			return nil, err
		}
		for h := range starter {
			delete(fp, h)
		}
		prints = append(prints, print{Side{sub.UserID, sub.Username, sub.ID}, fp})
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	pairs := []Pair{}
	for i := range prints {
		for j := i + 1; j < len(prints); j++ {
			if score := jaccard(prints[i].fp, prints[j].fp); score >= SimilarityThreshold {
				pairs = append(pairs, Pair{A: prints[i].side, B: prints[j].side, Score: round2(score)})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Score > pairs[j].Score })
	return pairs, nil
}

func jaccard(a, b map[uint64]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	both := 0
	for h := range a {
		if b[h] {
			both++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// fingerprintDir fingerprints the source files below dir (read through
// safefs: students wrote them), leaving out the paths in skip.
func fingerprintDir(dir string, skip map[string]bool) (map[uint64]bool, error) {
	d, err := safefs.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path.Base(dir), err)
	}
	defer d.Close()
	fp := map[uint64]bool{}
	total := 0
	err = d.Walk(func(e safefs.Entry) error {
		if e.IsDir() {
			if heavy(e.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type.IsRegular() || skip[e.Path] || !sourceExt[strings.ToLower(path.Ext(e.Name()))] {
			return nil
		}
		f, info, err := e.Open()
		if err != nil || info.Size() > maxSourceFile {
			if f != nil {
				f.Close()
			}
			return nil
		}
		b := make([]byte, info.Size())
		n, _ := io.ReadFull(f, b)
		f.Close()
		total += n
		if total > maxSourceTotal {
			return fs.SkipAll
		}
		for h := range winnow(tokens(string(b[:n]))) {
			fp[h] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read source files: %w", err)
	}
	return fp, nil
}

// tokens splits source into words (lowercased), numbers and single
// symbols, leaving out whitespace and comments (#, //, /* */): layout and
// comments change nothing.
func tokens(src string) []string {
	var out []string
	for i := 0; i < len(src); {
		c, size := utf8.DecodeRuneInString(src[i:])
		rest := src[i:]
		switch {
		case unicode.IsSpace(c):
			i += size
		case c == '#' || strings.HasPrefix(rest, "//"):
			end := strings.IndexByte(rest, '\n')
			if end < 0 {
				return out
			}
			i += end
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return out
			}
			i += 2 + end + 2
		case word(c):
			j := i
			for j < len(src) {
				c2, s2 := utf8.DecodeRuneInString(src[j:])
				if !word(c2) {
					break
				}
				j += s2
			}
			out = append(out, strings.ToLower(src[i:j]))
			i = j
		default:
			out = append(out, string(c))
			i += size
		}
	}
	return out
}

func word(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' }

// winnow hashes every k-gram of tokens and keeps the smallest hash of
// each window of them: a match of window+kgram-1 tokens is always seen.
func winnow(toks []string) map[uint64]bool {
	out := map[uint64]bool{}
	if len(toks) < kgram {
		if len(toks) > 0 {
			out[hash(toks)] = true
		}
		return out
	}
	hashes := make([]uint64, len(toks)-kgram+1)
	for i := range hashes {
		hashes[i] = hash(toks[i : i+kgram])
	}
	if len(hashes) <= window {
		out[minOf(hashes)] = true
		return out
	}
	for i := 0; i+window <= len(hashes); i++ {
		out[minOf(hashes[i:i+window])] = true
	}
	return out
}

func hash(toks []string) uint64 {
	h := fnv.New64a()
	for _, t := range toks {
		h.Write([]byte(t))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func minOf(hs []uint64) uint64 {
	m := hs[0]
	for _, h := range hs[1:] {
		m = min(m, h)
	}
	return m
}
