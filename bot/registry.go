package bot

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/learnloop/learnloop/store"
)

// Registry is the one explicit list of what other packages add to the core
// loop: card kinds (rendered by the Renderer), audiences (resolved by the
// Deliverer at send time) and interaction handlers (dispatched by the
// Router). A package such as surveys registers into the Registry value it
// is given during wiring; app hands that same value to the Renderer, the
// Router, the Deliverer and the Planner, so nobody writes into another
// package's maps. Register everything before the loop starts; lookups are
// safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	kinds     map[string]KindRenderer
	audiences map[string]PagedAudienceFunc
	actions   map[string]ActionHandler
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]KindRenderer{}, audiences: map[string]PagedAudienceFunc{}, actions: map[string]ActionHandler{}}
}

// Errors returned by the Registry's registration methods.
var (
	ErrRegistered = errors.New("already registered")
	ErrBuiltIn    = errors.New("built into the core loop")
)

// builtInAudiences are the audiences the Deliverer resolves itself.
var builtInAudiences = []string{store.AudienceAll, store.AudienceNotCheckedIn, store.AudienceCheckedIn}

// builtInActions are the actions the Router (or the platform) handles itself.
var builtInActions = []string{ActionCheckin, ActionLink}

func register[F any](g *Registry, m map[string]F, what, name string, f F, isNil bool, builtIn []string) error {
	switch {
	case name == "":
		return fmt.Errorf("register %s: empty name", what)
	case isNil:
		return fmt.Errorf("register %s %q: nil function", what, name)
	case slices.Contains(builtIn, name):
		return fmt.Errorf("register %s %q: %w", what, name, ErrBuiltIn)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := m[name]; ok {
		return fmt.Errorf("register %s %q: %w", what, name, ErrRegistered)
	}
	m[name] = f
	return nil
}

// Kind registers the renderer of a touchpoint kind the core does not know.
func (g *Registry) Kind(name string, kr KindRenderer) error {
	return register(g, g.kinds, "card kind", name, kr, kr == nil, CardKinds)
}

// Audience registers an audience resolved whole at send time.
func (g *Registry) Audience(name string, af AudienceFunc) error {
	var pf PagedAudienceFunc
	if af != nil {
		pf = af.Paged()
	}
	return register(g, g.audiences, "audience", name, pf, af == nil, builtInAudiences)
}

// PagedAudience registers an audience resolved a page at a time at send
// time, so a large audience is never held whole.
func (g *Registry) PagedAudience(name string, pf PagedAudienceFunc) error {
	return register(g, g.audiences, "audience", name, pf, pf == nil, builtInAudiences)
}

// Action registers the handler of a verified interaction with action name.
func (g *Registry) Action(name string, h ActionHandler) error {
	return register(g, g.actions, "action", name, h, h == nil, builtInActions)
}

// KindRenderer returns the renderer registered for kind.
func (g *Registry) KindRenderer(kind string) (KindRenderer, bool) {
	if g == nil {
		return nil, false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	kr, ok := g.kinds[kind]
	return kr, ok
}

// ActionHandler returns the handler registered for action.
func (g *Registry) ActionHandler(action string) (ActionHandler, bool) {
	if g == nil {
		return nil, false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	h, ok := g.actions[action]
	return h, ok
}

// AudienceFuncs returns a copy of the registered audiences, each in its
// paged form, for the Deliverer.
func (g *Registry) AudienceFuncs() map[string]PagedAudienceFunc {
	out := map[string]PagedAudienceFunc{}
	if g == nil {
		return out
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	for k, f := range g.audiences {
		out[k] = f
	}
	return out
}

// Kinds returns the registered card kinds, sorted.
func (g *Registry) Kinds() []string { return g.names(func() []string { return mapKeys(g.kinds) }) }

// Audiences returns the registered audiences, sorted.
func (g *Registry) Audiences() []string {
	return g.names(func() []string { return mapKeys(g.audiences) })
}

// Actions returns the registered actions, sorted.
func (g *Registry) Actions() []string { return g.names(func() []string { return mapKeys(g.actions) }) }

// KindSet returns the registered card kinds as a set (plan.Planner.Kinds).
func (g *Registry) KindSet() map[string]bool { return set(g.Kinds()) }

// AudienceSet returns the registered audiences as a set
// (plan.Planner.Audiences).
func (g *Registry) AudienceSet() map[string]bool { return set(g.Audiences()) }

func set(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

func (g *Registry) names(keys func() []string) []string {
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := keys()
	sort.Strings(out)
	return out
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
