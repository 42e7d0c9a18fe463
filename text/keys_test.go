package text

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// keyPattern is the shape of every key: lowercase words joined by '.'
// (the last may be a number such as -3).
var keyPattern = regexp.MustCompile(`^(?:[a-z]+:)?[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)*$`)

// lookups are the functions that take a key, with the key's argument
// (0-based); a call through a selector is named ".name" unless its
// receiver is a package (text.T).
var lookups = map[string]int{
	"text.T":   1,
	"text.M":   0,
	"text.Has": 0,
	".tr":      0, // the console's page.tr, text.T bound to the page's locale
}

// groupLookups take an enumeration's group: every key under group+"." may
// be looked up.
var groupLookups = map[string]int{"text.Enum": 1}

// templateCalls find the keys of the template functions text.FuncMap
// gives: {{t "key" …}} and {{T .Lang "key" …}}.
var templateCalls = []*regexp.Regexp{
	regexp.MustCompile(`[{(|]-?\s*t\s+"([^"]+)"`),
	regexp.MustCompile(`[{(|]-?\s*T\s+[^\s"}]+\s+"([^"]+)"`),
}

// templateGroups find the groups of {{tl "group" value}} (text.Enum).
var templateGroups = regexp.MustCompile(`[{(|]-?\s*tl\s+"([^"]+)"`)

// templateStrings are the string literals of a template's actions.
var templateStrings = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// keyStart reports whether s is the start of a key the code completes at
// run time ("kind.", "reply.done_").
func keyStart(s string) bool {
	return (strings.HasSuffix(s, ".") || strings.HasSuffix(s, "_")) && keyPattern.MatchString(strings.TrimRight(s, "._"))
}

// covers reports whether some key starts with prefix.
func covers(prefix string) bool {
	for k := range catalogue {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// usage is what the code asks of the catalogue.
type usage struct {
	keys     map[string]string // key → a file asking for it
	prefixes map[string]string // a key's start the code completes at run time
	literals map[string]bool   // every string literal of the code and templates
	starts   map[string]bool   // literal starts of any string built at run time
}

func (u *usage) key(k, file string) {
	if _, seen := u.keys[k]; !seen {
		u.keys[k] = file
	}
}

// literal records a string literal: one that starts with an area's prefix
// is a key (or, ending in '.' or '_', the start of keys).
func (u *usage) literal(s, file string) {
	u.literals[s] = true
	for _, a := range areas {
		if a.prefix == "" || !strings.HasPrefix(s, a.prefix) || strings.ContainsAny(s, " \n\t/%") {
			continue
		}
		switch {
		case strings.HasSuffix(s, ".") || strings.HasSuffix(s, "_"):
			u.prefixes[s] = file
		case !Has(s) && covers(s+"."):
			u.prefixes[s+"."] = file // a group: text.Enum(loc, "demo:kind", k)
		default:
			u.key(s, file)
		}
	}
}

// keyArg records the key argument of a lookup: a literal, or the literal
// start of a concatenation.
func (u *usage) keyArg(e ast.Expr, suffix, file string) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
			if suffix != "" {
				u.prefixes[s+suffix] = file
			} else {
				u.key(s, file)
			}
		}
	case *ast.BinaryExpr:
		if x.Op == token.ADD {
			if lit, ok := x.X.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					u.prefixes[s] = file
				}
			} else {
				u.keyArg(x.X, "", file) // "a." + b + "." + c: the start is what counts
			}
		}
	}
}

func callName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); ok && id.Name == "text" {
			return "text." + f.Sel.Name
		}
		return "." + f.Sel.Name
	}
	return ""
}

func (u *usage) goFile(t *testing.T, path string, src []byte) {
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.SkipObjectResolution)
	require.NoError(t, err, path)
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				if s, err := strconv.Unquote(x.Value); err == nil {
					u.literal(s, path)
				}
			}
		case *ast.BinaryExpr:
			// "action." + v: the literal start of a key built at run time.
			if lit, ok := x.X.(*ast.BasicLit); ok && x.Op == token.ADD && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && keyStart(s) {
					u.starts[s] = true
				}
			}
		case *ast.CallExpr:
			name := callName(x.Fun)
			if i, ok := lookups[name]; ok && i < len(x.Args) {
				u.keyArg(x.Args[i], "", path)
			}
			if i, ok := groupLookups[name]; ok && i < len(x.Args) {
				u.keyArg(x.Args[i], ".", path)
			}
		}
		return true
	})
}

func (u *usage) templateFile(path string, src []byte) {
	s := string(src)
	for _, re := range templateCalls {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			u.key(m[1], path)
		}
	}
	for _, m := range templateGroups.FindAllStringSubmatch(s, -1) {
		u.prefixes[m[1]+"."] = path
	}
	for _, m := range templateStrings.FindAllStringSubmatch(s, -1) {
		u.literal(m[1], path)
		// printf "phase.%s" .Phase: a key built at run time.
		if start, _, ok := strings.Cut(m[1], "%"); ok && keyStart(start) {
			u.starts[start] = true
		}
	}
}

// scan reads every Go file (tests and this package's catalogues left out)
// and every template of the module.
func scan(t *testing.T) *usage {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root is the parent of text/")
	self := filepath.Join(root, "text")
	u := &usage{keys: map[string]string{}, prefixes: map[string]string{}, literals: map[string]bool{}, starts: map[string]bool{}}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || path == self) {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		switch ext := filepath.Ext(path); {
		case ext == ".go" && !strings.HasSuffix(path, "_test.go"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			u.goFile(t, rel, src)
			files++
		case ext == ".html" || ext == ".tmpl" || ext == ".js":
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			u.templateFile(rel, src)
			files++
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 50, "the walk found the module's files")
	return u
}

// TestEveryKeyExists is the one check of the texts: every key any Go file
// or template of the module asks for (text.T, text.M, text.Has, the
// templates' t and T, and any string literal starting with an area's
// prefix) has a zh-CN and an en text, so no user ever sees a raw key such
// as survey.form.required_error; and every key of the catalogue is used
// somewhere (as a literal, or under a prefix the code completes at run
// time), so the catalogue does not fill up with dead texts. Both fail.
func TestEveryKeyExists(t *testing.T) {
	t.Parallel()
	u := scan(t)
	require.Contains(t, u.keys, "surveys:form.required_error", "the scan sees the survey form's template")
	require.Contains(t, u.keys, "bot:button.checkin", "the scan sees text.T calls")

	var missing []string
	for k, file := range u.keys {
		if !Has(k) {
			missing = append(missing, k+" (used in "+file+")")
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "keys used without a text")

	for p, file := range u.prefixes {
		require.True(t, covers(p), "no key starts with %q (used in %s)", p, file)
	}

	var unused []string
	for k := range catalogue {
		if u.literals[k] {
			continue
		}
		if _, ok := u.keys[k]; ok {
			continue
		}
		covered := false
		for p := range u.prefixes {
			if strings.HasPrefix(k, p) {
				covered = true
				break
			}
		}
		for p := range u.starts {
			if strings.HasPrefix(k, p) {
				covered = true
				break
			}
		}
		if !covered {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	require.Empty(t, unused, "keys no code uses: delete them, or use them")
}

// TestScannerFindsKeys: the scan sees each way the code names a key, so a
// key it misses cannot slip past TestEveryKeyExists.
func TestScannerFindsKeys(t *testing.T) {
	t.Parallel()
	goSrc := `package x

func f(loc text.Locale, p *page, v string) {
	_ = text.T(loc, "bot:button.checkin")
	_ = text.T(loc, "nav.home", 1)
	_ = text.M("surveys:answer.too_long", 1, 2)
	_ = text.Has("flash." + v)
	_ = text.Enum(loc, "kind", v)
	_ = p.tr("login.title")
	_ = text.T(loc, "presence:kind."+v)
	k := "roster:not_found"
	_ = "action." + v
	_ = text.T(loc, k)
}
`
	tmplSrc := `{{t "board.live"}} {{T .Lang "surveys:form.submit" 1}} {{tl "stage" .S}} {{t (printf "phase.%s" .P)}}`
	u := &usage{keys: map[string]string{}, prefixes: map[string]string{}, literals: map[string]bool{}, starts: map[string]bool{}}
	u.goFile(t, "x.go", []byte(goSrc))
	u.templateFile("x.html", []byte(tmplSrc))
	key := func(k string) bool { _, ok := u.keys[k]; return ok }
	prefix := func(p string) bool { _, ok := u.prefixes[p]; return ok }
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"text.T key", key("bot:button.checkin"), true},
		{"unprefixed key", key("nav.home"), true},
		{"text.M key", key("surveys:answer.too_long"), true},
		{"page.tr key", key("login.title"), true},
		{"area literal anywhere", key("roster:not_found"), true},
		{"no key from a non-literal", key("k"), false},
		{"concatenated lookup is a prefix", prefix("flash."), true},
		{"Enum group is a prefix", prefix("kind."), true},
		{"area prefix", prefix("presence:kind."), true},
		{"any concatenation covers", u.starts["action."], true},
		{"template t", key("board.live"), true},
		{"template T", key("surveys:form.submit"), true},
		{"template tl group", prefix("stage."), true},
		{"template printf start", u.starts["phase."], true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.got, tc.name)
	}
}
