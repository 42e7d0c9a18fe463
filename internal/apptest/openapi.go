package apptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// APIPrefix is where the admin API is served; only answers under it are
// checked against the contract.
const APIPrefix = "/api/v1"

// Contract is api/openapi.yaml, loaded and validated, with a router that
// finds the operation of a request.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
}

// SpecPath returns the path of api/openapi.yaml in this source tree.
func SpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "api", "openapi.yaml")
}

// LoadContract reads api/openapi.yaml and validates it as OpenAPI.
func LoadContract(ctx context.Context, path string) (*Contract, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read openapi: %w", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load openapi: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate openapi: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return &Contract{Doc: doc, router: router}, nil
}

// contract is loaded once per test binary and never changed afterwards.
var contract = sync.OnceValues(func() (*Contract, error) {
	return LoadContract(context.Background(), SpecPath())
})

// OperationID returns the operationId of the operation req is for.
func (c *Contract) OperationID(req *http.Request) (string, error) {
	route, _, err := c.router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return route.Operation.OperationID, nil
}

// CheckResponse checks the answer to req (which must have been sent) against
// the contract: its operation must document the status, and the body must
// match that status's media type and schema. A request to no documented
// operation must have been answered 404 with a problem. It returns the
// mismatch, or nil.
func (c *Contract) CheckResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		// The API's catch-all: an unknown endpoint is a not_found problem.
		if status != http.StatusNotFound {
			return fmt.Errorf("%s %s is not in the contract, and the answer is %d, not 404", req.Method, req.URL.Path, status)
		}
		return c.checkProblem(header, body)
	}
	if err != nil {
		return fmt.Errorf("find operation: %w", err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: opts,
		},
		Status:  status,
		Header:  header,
		Options: opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("operation %s: %w", route.Operation.OperationID, err)
	}
	return nil
}

func (c *Contract) checkProblem(header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("content type %q, want application/problem+json", ct)
	}
	ref := c.Doc.Components.Schemas["Problem"]
	if ref == nil {
		return errors.New("the contract has no Problem schema")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("problem body does not match the Problem schema: %w", err)
	}
	return nil
}

// checkContract fails t when an API answer does not match api/openapi.yaml.
// Answers outside the API (the simulator, callbacks) are not checked.
func checkContract(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if req.URL.Path != APIPrefix && !strings.HasPrefix(req.URL.Path, APIPrefix+"/") {
		return
	}
	c, err := contract()
	if err != nil {
		t.Errorf("api/openapi.yaml: %v", err)
		return
	}
	if err := c.CheckResponse(context.Background(), req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d against api/openapi.yaml: %v\nbody: %s", req.Method, req.URL.RequestURI(), status, err, excerpt(body))
	}
}

func excerpt(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
