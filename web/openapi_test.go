package web

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestOpenAPIDescribesEveryRoute keeps api/openapi.yaml in step with the
// routes the API registers.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../api/openapi.yaml")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	re := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) (/[^"]*)"`)
	seen := 0
	for _, f := range []string{"api.go", "api_surveys.go"} {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			method, path := strings.ToLower(m[1]), m[2]
			ops, ok := doc.Paths[path]
			require.True(t, ok, "openapi.yaml lacks path %s", path)
			_, ok = ops[method]
			require.True(t, ok, "openapi.yaml lacks %s %s", m[1], path)
			seen++
		}
	}
	require.Greater(t, seen, 30)
}
