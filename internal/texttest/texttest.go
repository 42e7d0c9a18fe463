// Package texttest finds the text keys a package's code and templates use,
// so each package's test can check that every one has a zh-CN and an en
// text (a user never sees a raw key such as form.required_error).
package texttest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Call matches a literal key passed to a lookup function fn as its
// argument number arg (0-based). Call("T", 1) finds the key of a call of T
// with the key second; a qualified name ("bot.T") finds calls through
// another package, which the unqualified one leaves out.
func Call(fn string, arg int) *regexp.Regexp {
	skip := strings.Repeat(`[^,()"]*(?:"[^"]*")?[^,()"]*,\s*`, arg)
	return regexp.MustCompile(`(?:^|[^.\w])` + regexp.QuoteMeta(fn) + `\(\s*` + skip + `"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)"`)
}

// Template matches a literal key passed to a template function as its
// argument number arg (0-based), in an action or a parenthesized call.
func Template(fn string, arg int) *regexp.Regexp {
	skip := strings.Repeat(`[^\s"}]+\s+`, arg)
	return regexp.MustCompile(`[{(]-?\s*` + regexp.QuoteMeta(fn) + `\s+` + skip + `"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)"`)
}

// Keys returns the keys the patterns find in the non-test .go, .html and
// .js files under dir, with a file where each was seen. A key ending in "_"
// is a prefix completed at run time and is left out.
func Keys(t testing.TB, dir string, patterns ...*regexp.Regexp) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if strings.HasSuffix(path, "_test.go") || (ext != ".go" && ext != ".html" && ext != ".js") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if strings.HasSuffix(m[1], "_") {
					continue // a prefix the code completes ("reply.done_" + kind)
				}
				if _, seen := out[m[1]]; !seen {
					out[m[1]] = path
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	if len(out) == 0 {
		t.Fatalf("no text keys found under %s: the patterns are wrong", dir)
	}
	return out
}

// Missing lists, sorted, the keys of used that has reports false for.
func Missing(used map[string]string, has func(key string) bool) []string {
	var out []string
	for k, file := range used {
		if !has(k) {
			out = append(out, k+" (used in "+file+")")
		}
	}
	sort.Strings(out)
	return out
}
