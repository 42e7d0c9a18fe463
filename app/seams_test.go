package app_test

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFrontDoorsDoNotImportGORM keeps the seam of issue #12: the API (web)
// and the console only parse and render; what they read and write goes
// through command, reports, the domain services (campaigns, surveys,
// webhooks) and console/accounts, which own the database. console/accounts
// is the accounts' own door and keeps its transactions.
func TestFrontDoorsDoNotImportGORM(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"../web", "../console"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			ast, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range ast.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				require.NoError(t, err)
				require.False(t, path == "gorm.io/gorm" || strings.HasPrefix(path, "gorm.io/"), "%s imports %s", f, path)
			}
		}
	}
}
