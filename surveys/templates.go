package surveys

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed templates/*.yaml
var templateFS embed.FS

// ErrUnknownTemplate is returned (wrapped) by BuiltinByKey for a key that no
// built-in template has.
var ErrUnknownTemplate = errors.New("unknown survey template")

// MaxDefinitionBytes is the largest definition ParseDefinition accepts.
const MaxDefinitionBytes = 1 << 20

// builtins parses the embedded templates once.
var builtins = sync.OnceValues(func() ([]Definition, error) {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("surveys: read embedded templates: %w", err)
	}
	var defs []Definition
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		name := path.Join("templates", e.Name())
		data, err := templateFS.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("surveys: %s: %w", name, err))
			continue
		}
		d, err := ParseDefinition(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("surveys: %s: %w", name, err))
			continue
		}
		if want := strings.TrimSuffix(e.Name(), ".yaml"); d.Key != want {
			errs = append(errs, fmt.Errorf("surveys: %s: key %q does not match the file name", name, d.Key))
		}
		if prev, dup := seen[d.Key]; dup {
			errs = append(errs, fmt.Errorf("surveys: %s: key %q already used by %s", name, d.Key, prev))
		}
		seen[d.Key] = name
		defs = append(defs, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return defs, nil
})

// Builtin returns the questionnaire templates shipped with the binary
// (templates/*.yaml, embedded), parsed and validated, ordered by key. It
// includes at least "manager_followup" (behaviour placeholders to expand with
// ExpandBehaviours, overall change, barriers, enablers), "nps" (one nps
// question "nps" and an optional "why") and "post_course_feedback" (teacher,
// course and organisation satisfaction ratings, suggestions, nps, nps_why).
// Each call returns fresh copies that the caller may modify.
func Builtin() ([]Definition, error) {
	defs, err := builtins()
	if err != nil {
		return nil, err
	}
	out := make([]Definition, len(defs))
	for i, d := range defs {
		out[i] = d.Clone()
	}
	return out, nil
}

// BuiltinByKey returns a copy of the built-in template with key, or an error
// wrapping ErrUnknownTemplate.
func BuiltinByKey(key string) (Definition, error) {
	defs, err := builtins()
	if err != nil {
		return Definition{}, err
	}
	for _, d := range defs {
		if d.Key == key {
			return d.Clone(), nil
		}
	}
	return Definition{}, fmt.Errorf("surveys: %w %q", ErrUnknownTemplate, key)
}

// ParseDefinition decodes a definition from YAML or JSON (a document whose
// first non-blank character is '{' is read as JSON) and validates it. Unknown
// fields, a second document or trailing data, and input larger than
// MaxDefinitionBytes are errors; a definition that fails Validate is
// returned as the Validate error (errors.Join of every problem).
func ParseDefinition(data []byte) (Definition, error) {
	if len(data) > MaxDefinitionBytes {
		return Definition{}, fmt.Errorf("surveys: definition is %d bytes, at most %d are allowed", len(data), MaxDefinitionBytes)
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return Definition{}, errors.New("surveys: definition is empty")
	}
	var d Definition
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return Definition{}, fmt.Errorf("surveys: parse definition JSON: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return Definition{}, errors.New("surveys: parse definition JSON: trailing data after the definition")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		if err := dec.Decode(&d); err != nil {
			return Definition{}, fmt.Errorf("surveys: parse definition YAML: %w", err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return Definition{}, errors.New("surveys: parse definition YAML: more than one document")
		}
	}
	if err := d.Validate(); err != nil {
		return Definition{}, err
	}
	return d, nil
}
