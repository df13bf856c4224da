package main

import (
	"io/fs"
	"net/url"
	"os"
	slashpath "path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	mdtext "github.com/yuin/goldmark/text"
)

// TestDocLinks reads every Markdown file of the repository as GitHub does
// (CommonMark with GitHub's extensions) and checks each relative link and
// image: it must name a file or directory inside the repository, and its
// #anchor a heading of the Markdown file it names (GitHub's anchors).
// Links with a scheme (https:, mailto:) are not followed.
func TestDocLinks(t *testing.T) {
	docs := markdownFiles(t)
	if len(docs) == 0 {
		t.Fatal("no Markdown files found")
	}
	anchors := map[string]map[string]bool{} // file -> its anchors
	parsed := map[string]ast.Node{}
	sources := map[string][]byte{}
	for _, f := range docs {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = src
		parsed[f] = markdown.Parser().Parse(mdtext.NewReader(src))
		anchors[f] = anchorsOf(parsed[f], src)
	}
	checked := 0
	for _, f := range docs {
		for _, dest := range linksOf(parsed[f], sources[f]) {
			checked++
			if problem := checkLink(f, dest, anchors); problem != "" {
				t.Errorf("%s: link %q %s", f, dest, problem)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no links found: is the parser reading the files?")
	}
}

var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// markdownFiles lists the *.md files of the repository, by slash path from
// its root (this directory).
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".md") {
			out = append(out, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	scheme   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	htmlLink = regexp.MustCompile(`(?i)\b(?:href|src)\s*=\s*["']([^"']*)["']`)
	htmlID   = regexp.MustCompile(`(?i)\b(?:id|name)\s*=\s*["']([^"']*)["']`)
)

// linksOf returns the destination of every link and image of doc, those
// written in HTML included.
func linksOf(doc ast.Node, src []byte) []string {
	var out []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			out = append(out, string(n.Destination))
		case *ast.Image:
			out = append(out, string(n.Destination))
		case *ast.RawHTML, *ast.HTMLBlock:
			for _, m := range htmlLink.FindAllStringSubmatch(rawHTML(n, src), -1) {
				out = append(out, m[1])
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

func rawHTML(n ast.Node, src []byte) string {
	var segs []mdtext.Segment
	switch n := n.(type) {
	case *ast.RawHTML:
		segs = n.Segments.Sliced(0, n.Segments.Len())
	case *ast.HTMLBlock:
		segs = n.Lines().Sliced(0, n.Lines().Len())
		if n.HasClosure() {
			segs = append(segs, n.ClosureLine)
		}
	}
	var b strings.Builder
	for _, seg := range segs {
		b.Write(seg.Value(src))
	}
	return b.String()
}

// anchorsOf returns the anchors GitHub gives the headings of doc, and the
// ids of its HTML elements.
func anchorsOf(doc ast.Node, src []byte) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch h := n.(type) {
		case *ast.Heading:
			slug := githubSlug(inlineText(h, src))
			if k := seen[slug]; k > 0 {
				out[slug+"-"+strconv.Itoa(k)] = true
			} else {
				out[slug] = true
			}
			seen[slug]++
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML, *ast.HTMLBlock:
			for _, m := range htmlID.FindAllStringSubmatch(rawHTML(n, src), -1) {
				out[m[1]] = true
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

// inlineText is the text of n as rendered, without its markup.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Value(src))
			case *ast.String:
				b.Write(c.Value)
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// githubSlug is the anchor GitHub makes of a heading's text: lower case,
// every character but letters, digits, marks, "_", "-" and spaces dropped,
// each space a "-" (a repeated heading then gets -1, -2, ...).
func githubSlug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkLink says what is wrong with the link dest of the Markdown file
// from, or "" when nothing is.
func checkLink(from, dest string, anchors map[string]map[string]bool) string {
	if dest == "" {
		return "is empty"
	}
	if scheme.MatchString(dest) || strings.HasPrefix(dest, "//") {
		return ""
	}
	target, fragment, _ := strings.Cut(dest, "#")
	if q := strings.IndexByte(target, '?'); q >= 0 {
		target = target[:q]
	}
	target, err := url.PathUnescape(target)
	if err != nil {
		return "is not a valid path"
	}
	switch {
	case target == "":
		target = from
	case strings.HasPrefix(target, "/"):
		target = slashpath.Clean(strings.TrimPrefix(target, "/"))
	default:
		target = slashpath.Join(slashpath.Dir(from), target)
	}
	if target == ".." || strings.HasPrefix(target, "../") {
		return "leads outside the repository"
	}
	if _, err := os.Stat(filepath.FromSlash(target)); err != nil {
		return "names no file of the repository"
	}
	if fragment == "" || !strings.EqualFold(slashpath.Ext(target), ".md") {
		return ""
	}
	if fragment, err = url.PathUnescape(fragment); err != nil || !anchors[target][fragment] {
		return "names no heading of " + target
	}
	return ""
}

// TestDocLinkCheck proves the checks above can fail.
func TestDocLinkCheck(t *testing.T) {
	src := []byte("# Read me\n\n## Read me\n\n## The `schema` and introspection: v1.2!\n\n<a id=\"here\"></a>\n")
	// The anchors of docs/rest.md are those of src.
	doc := markdown.Parser().Parse(mdtext.NewReader(src))
	anchors := map[string]map[string]bool{"docs/rest.md": anchorsOf(doc, src)}
	for dest, ok := range map[string]bool{
		"#read-me": true, "#read-me-1": true, "#the-schema-and-introspection-v12": true, "#here": true,
		"#read-me-2": false, "#nowhere": false,
		"security.md": true, "../README.md": true, "/README.md": true, "admin/": true, "admin/login.png": true,
		"rest.md#read-me-1": true, "rest.md#missing": false, "./rest.md#here": true,
		"missing.md": false, "../../shared/DESIGN.md": false, "../../README.md": false,
		"https://example.com/x": true, "mailto:a@example.com": true, "": false,
	} {
		if problem := checkLink("docs/rest.md", dest, anchors); (problem == "") != ok {
			t.Errorf("%q: %q, want ok %v", dest, problem, ok)
		}
	}
	src = []byte("[a](a.md) ![b](b.png) `[c](c.md)`\n\n```\n[d](d.md)\n```\n\n<img src=\"e.png\">\n\n[f]\n\n[f]: f.md\n")
	got := linksOf(markdown.Parser().Parse(mdtext.NewReader(src)), src)
	if want := []string{"a.md", "b.png", "e.png", "f.md"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("links %q, want %q", got, want)
	}
}
