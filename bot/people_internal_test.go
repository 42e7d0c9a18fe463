package bot

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
)

// TestForgetPeople: a run drops what it kept of a recipient once the row's
// send is over, except for rows about a subject (a manager has one a
// direct report), and a forgotten person's variant goes with them.
func TestForgetPeople(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rows []store.Delivery
		kept []uint64
	}{
		{"rows about their recipient", []store.Delivery{{EmployeeID: 1}, {EmployeeID: 2}}, []uint64{3, 4}},
		{"a row about a subject keeps its people", []store.Delivery{{EmployeeID: 3, SubjectID: 4}, {EmployeeID: 1}}, []uint64{2, 3, 4}},
		{"someone not kept", []store.Delivery{{EmployeeID: 9}}, []uint64{1, 2, 3, 4}},
		{"nothing", nil, []uint64{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fireJob{emp: &people{m: map[uint64]person{}}}
			vs := map[uint64]VariantCopy{}
			for _, id := range []uint64{1, 2, 3, 4} {
				f.emp.keep(store.Employee{ID: id, ExternalID: "e", Name: "员工"})
				vs[id] = VariantCopy{ID: id}
			}
			f.variants.put(vs)
			f.forget(tc.rows)
			for _, id := range []uint64{1, 2, 3, 4, 9} {
				want := false
				for _, k := range tc.kept {
					want = want || k == id
				}
				e, ok := f.emp.get(id)
				require.Equal(t, want, ok, "person %d", id)
				if ok {
					require.Equal(t, "员工", e.Name)
				}
				_, ok = f.variants.get(id)
				require.Equal(t, want, ok, "variant of %d", id)
			}
		})
	}
}
