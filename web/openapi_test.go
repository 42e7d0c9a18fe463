package web

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	raw, err := os.ReadFile("../api/openapi.yaml")
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "api/openapi.yaml is not valid OpenAPI")
	return doc
}

// TestOpenAPIIsValid loads api/openapi.yaml with kin-openapi and validates it.
func TestOpenAPIIsValid(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.NotEmpty(t, doc.Components.Schemas["Problem"])
}

// TestOpenAPIDescribesEveryRoute keeps api/openapi.yaml in step with the
// routes the API registers, and every route's operation complete: an
// operationId, the 401 every request can get, its 4xx answers as problems,
// and a schema for every JSON body.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	re := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) (/[^"]*)"`)
	routes := map[string]bool{}
	for _, f := range []string{"api.go", "api_surveys.go", "api_campaigns.go", "api_webhooks.go", "api_digests.go", "../presence/api.go"} {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			routes[m[1]+" "+m[2]] = true
		}
	}
	require.Greater(t, len(routes), 30)

	ids := map[string]string{}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			documented[name] = true
			require.True(t, routes[name], "openapi.yaml documents %s, which the API does not serve", name)
			require.NotEmpty(t, op.OperationID, "%s has no operationId", name)
			prev, dup := ids[op.OperationID]
			require.False(t, dup, "operationId %s is used by %s and %s", op.OperationID, prev, name)
			ids[op.OperationID] = name

			require.NotNil(t, op.Responses.Status(401), "%s does not document 401", name)
			require.NotNil(t, op.Responses.Status(400), "%s does not document 400", name)
			if strings.Contains(path, "{id}") {
				require.NotNil(t, op.Responses.Status(404), "%s does not document 404", name)
			}
			if op.RequestBody != nil {
				require.NotNil(t, op.Responses.Status(400), "%s takes a body but does not document 400", name)
			}
			success := 0
			for code, ref := range op.Responses.Map() {
				resp := ref.Value
				require.NotNil(t, resp, "%s %s", name, code)
				switch {
				case code == "204":
					require.Empty(t, resp.Content, "%s 204 has a body", name)
					success++
				case code[0] == '2':
					success++
					require.NotEmpty(t, resp.Content, "%s %s has no body", name, code)
				case code[0] == '4' || code[0] == '5':
					mt := resp.Content.Get("application/problem+json")
					require.NotNil(t, mt, "%s %s is not a problem+json answer", name, code)
					require.NotNil(t, mt.Schema, "%s %s", name, code)
					require.Equal(t, "#/components/schemas/Problem", mt.Schema.Ref, "%s %s", name, code)
				}
				for ct, mt := range resp.Content {
					require.NotNil(t, mt.Schema, "%s %s %s has no schema", name, code, ct)
				}
			}
			require.Positive(t, success, "%s documents no success answer", name)
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					require.NotNil(t, mt.Schema, "%s request %s has no schema", name, ct)
				}
			}
		}
	}
	var missing []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "openapi.yaml lacks these routes")
}

// TestOpenAPIListsArePaged checks that every list answer (a …List schema)
// documents limit, cursor and the next_cursor/next members.
func TestOpenAPIListsArePaged(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	lists := 0
	for path, item := range doc.Paths.Map() {
		op := item.Get
		if op == nil {
			continue
		}
		mt := op.Responses.Status(200).Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			continue
		}
		if !strings.HasSuffix(mt.Schema.Ref, "List") {
			continue
		}
		props := mt.Schema.Value.Properties
		lists++
		require.Contains(t, props, "next_cursor", path)
		require.Contains(t, props, "next", path)
		params := map[string]bool{}
		for _, p := range append(item.Parameters, op.Parameters...) {
			params[p.Value.Name] = true
		}
		require.True(t, params["limit"] && params["cursor"], "%s does not take limit and cursor", path)
	}
	require.Equal(t, 14, lists) // …, webhooks, webhook deliveries, digests
}
