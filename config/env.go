package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	Key string // YAML path, such as "quiet_hours.start"
	Env string // the environment variable the bad value came from, if any
	Err error
}

// Error reports the key (and variable), then the problem.
func (e *FieldError) Error() string {
	if e.Env != "" {
		return fmt.Sprintf("%s (from %s): %v", e.Key, e.Env, e.Err)
	}
	return e.Key + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem.
func (e *FieldError) Unwrap() error { return e.Err }

// EnvName returns the environment variable overriding the key at the YAML
// path key, e.g. "http.addr" → "LEARNLOOP_HTTP_ADDR".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

var (
	durationType = reflect.TypeFor[Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// leaf is one settable key of a Config.
type leaf struct {
	path  string        // YAML path
	value reflect.Value // the field
}

// leaves lists every key of c in declaration order. Nested structs are
// sections; every other exported field is a key.
func leaves(c *Config) []leaf {
	var out []leaf
	collectLeaves(reflect.ValueOf(c).Elem(), "", &out)
	return out
}

func collectLeaves(v reflect.Value, prefix string, out *[]leaf) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := yamlName(f)
		if name == "-" {
			continue
		}
		path := name
		if inline {
			path = prefix
		} else if prefix != "" {
			path = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct {
			collectLeaves(v.Field(i), path, out)
			continue
		}
		*out = append(*out, leaf{path: path, value: v.Field(i)})
	}
}

// yamlName returns the key yaml.v3 uses for f and whether f is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	inline := false
	for _, o := range strings.Split(opts, ",") {
		if o == "inline" {
			inline = true
		}
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline
}

// applyEnv sets every key whose environment variable is non-empty.
func applyEnv(c *Config, lookup func(string) (string, bool)) []error {
	var errs []error
	for _, l := range leaves(c) {
		env := EnvName(l.path)
		s, ok := lookup(env)
		if !ok || s == "" {
			continue
		}
		if err := setFromString(l.value, s); err != nil {
			errs = append(errs, &FieldError{Key: l.path, Env: env, Err: err})
		}
	}
	return errs
}

// setFromString parses s into v according to v's type.
func setFromString(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false): %w", s, unwrapNum(err))
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer: %w", s, unwrapNum(err))
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		items := splitList(s)
		sl := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			sl.Index(i).SetString(it)
		}
		v.Set(sl)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// unwrapNum drops strconv's "strconv.ParseInt: parsing ..." prefix.
func unwrapNum(err error) error {
	if ne, ok := errors.AsType[*strconv.NumError](err); ok {
		return ne.Err
	}
	return err
}

// splitList splits a comma- or newline-separated list, trimming blanks.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// readSecretFiles fills every empty Secret (or empty []Secret) from the file
// named by its sibling "<key>_file", when that is set.
func readSecretFiles(c *Config) []error {
	all := leaves(c)
	byPath := make(map[string]reflect.Value, len(all))
	for _, l := range all {
		byPath[l.path] = l.value
	}
	var errs []error
	for _, l := range all {
		isSecret := l.value.Type() == secretType
		isList := l.value.Kind() == reflect.Slice && l.value.Type().Elem() == secretType
		if !isSecret && !isList {
			continue
		}
		fv, ok := byPath[l.path+"_file"]
		if !ok || fv.Kind() != reflect.String || fv.String() == "" || l.value.Len() > 0 {
			continue
		}
		name := fv.String()
		b, err := os.ReadFile(name)
		if err != nil {
			errs = append(errs, &FieldError{Key: l.path + "_file", Err: fmt.Errorf("read secret: %w", err)})
			continue
		}
		content := strings.TrimSpace(string(b))
		if content == "" {
			errs = append(errs, &FieldError{Key: l.path + "_file", Err: fmt.Errorf("secret file %q is empty", name)})
			continue
		}
		if isSecret {
			l.value.SetString(content)
			continue
		}
		if err := setFromString(l.value, content); err != nil {
			errs = append(errs, &FieldError{Key: l.path + "_file", Err: err})
		}
	}
	return errs
}

// diagnoseYAML re-reads a file that failed to decode and reports each
// unknown key, duplicate key and badly typed value with its full key path.
// It returns nil when it finds nothing more specific than yaml.v3 did.
func diagnoseYAML(b []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil
	}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	var errs []error
	diagnoseNode(n, reflect.TypeFor[Config](), "", &errs)
	return errors.Join(errs...)
}

func diagnoseNode(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Kind() != reflect.Struct {
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			if te, ok := errors.AsType[*yaml.TypeError](err); ok {
				err = errors.New(strings.Join(te.Errors, "; "))
			} else {
				err = fmt.Errorf("line %d: %w", n.Line, err)
			}
			*errs = append(*errs, &FieldError{Key: path, Err: err})
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	key := path
	if key == "" {
		key = "(top level)"
	}
	if n.Kind != yaml.MappingNode {
		*errs = append(*errs, &FieldError{Key: key, Err: fmt.Errorf("line %d: must be a mapping of keys to values", n.Line)})
		return
	}
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _ := yamlName(f); f.IsExported() && name != "-" {
			fields[name] = f
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		f, ok := fields[k.Value]
		switch {
		case !ok:
			*errs = append(*errs, &FieldError{Key: sub, Err: fmt.Errorf("line %d: unknown key", k.Line)})
		case seen[k.Value]:
			*errs = append(*errs, &FieldError{Key: sub, Err: fmt.Errorf("line %d: duplicate key", k.Line)})
		default:
			diagnoseNode(v, f.Type, sub, errs)
		}
		seen[k.Value] = true
	}
}
