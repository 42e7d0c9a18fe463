package roster_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// ownership seeds two coordinators' courses: alice's session and bob's
// session with E1 on it, E1's manager M1, "bob" the employee owning bob's
// course, D1 known from the directory only, and A1 on alice's session alone.
type ownership struct {
	alice, bob store.Session
}

func seedOwnership(t *testing.T, db *storetest.DB) ownership {
	t.Helper()
	ctx := context.Background()
	var o ownership
	for _, x := range []struct {
		owner string
		sess  *store.Session
	}{{"alice", &o.alice}, {"bob", &o.bob}} {
		c := store.Course{Code: "C-" + x.owner, Title: "T", Owner: x.owner}
		require.NoError(t, db.Create(&c).Error)
		*x.sess = store.Session{CourseID: c.ID, Title: "S", TimeZone: "UTC", Locale: "zh-CN", Status: "planned"}
		require.NoError(t, db.Create(x.sess).Error)
	}
	dir, err := roster.ParseCSV(strings.NewReader("external_id,name,department,feishu_id\nM1,Manager,Sales,fm1\nbob,Bob,HR,fbob\nD1,Dora,Ops,fd1\n"))
	require.NoError(t, err)
	_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), 0, dir)
	require.NoError(t, err)
	rows, err := roster.ParseCSV(strings.NewReader("external_id,name,department,feishu_id,manager_id\nE1,Eve,Sales,fe1,M1\n"))
	require.NoError(t, err)
	_, err = roster.Import(ctx, db.DB, roster.AsAdmin(), o.bob.ID, rows)
	require.NoError(t, err)
	rows, err = roster.ParseCSV(strings.NewReader("external_id,name,department,feishu_id\nA1,Ann,Sales,fa1\n"))
	require.NoError(t, err)
	_, err = roster.Import(ctx, db.DB, roster.AsCoordinator("alice"), o.alice.ID, rows)
	require.NoError(t, err)
	return o
}

func TestImportOwnership(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		actor   roster.Actor
		intoBob bool
		csv     string
		refused map[int]string // line → code; nil: accepted
		err     error
		want    map[string]string // external_id → "name/department/feishu_id" after
	}{
		{"coordinator cannot rewrite another course's attendee", roster.AsCoordinator("alice"), false,
			"external_id,name,department,feishu_id\nN1,New,Sales,fn1\nE1,Mallory,Evil,fmallory\n",
			map[int]string{3: roster.CodeNotYours}, nil, map[string]string{"E1": "Eve/Sales/fe1", "N1": ""}},
		{"nor their manager", roster.AsCoordinator("alice"), false,
			"external_id,name,department,feishu_id\nM1,Manager,Sales,fevil\n",
			map[int]string{2: roster.CodeNotYours}, nil, map[string]string{"M1": "Manager/Sales/fm1"}},
		{"nor another course's owner", roster.AsCoordinator("alice"), false,
			"external_id,name\nbob,Robert\n",
			map[int]string{2: roster.CodeNotYours}, nil, map[string]string{"bob": "Bob/HR/fbob"}},
		{"nor someone only in the directory", roster.AsCoordinator("alice"), false,
			"external_id,name,department\nD1,Dora,Evil\n",
			map[int]string{2: roster.CodeNotYours}, nil, map[string]string{"D1": "Dora/Ops/fd1"}},
		{"nor give a new employee someone's platform id", roster.AsCoordinator("alice"), false,
			"external_id,name,feishu_id\nN2,Nick,fe1\n",
			map[int]string{2: roster.CodePlatformIDTaken}, nil, map[string]string{"N2": "", "E1": "Eve/Sales/fe1"}},
		{"nor import into another coordinator's session", roster.AsCoordinator("alice"), true,
			"external_id,name\nN3,New\n", nil, roster.ErrNotManaged, map[string]string{"N3": ""}},
		{"unchanged shared attendee is only enrolled", roster.AsCoordinator("alice"), false,
			"external_id,name,department\nE1,Eve,Sales\nN4,New,Ops\n",
			nil, nil, map[string]string{"E1": "Eve/Sales/fe1", "N4": "New/Ops/"}},
		{"own attendee can be changed", roster.AsCoordinator("alice"), false,
			"external_id,name,department,feishu_id\nA1,Anna,Ops,fa2\n",
			nil, nil, map[string]string{"A1": "Anna/Ops/fa2"}},
		{"admin changes anyone; missing columns are kept", roster.AsAdmin(), false,
			"external_id,name\nE1,Eva\n",
			nil, nil, map[string]string{"E1": "Eva/Sales/fe1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *storetest.DB) {
				ctx := context.Background()
				o := seedOwnership(t, db)
				target := o.alice
				if tc.intoBob {
					target = o.bob
				}
				var before int64
				require.NoError(t, db.Model(&store.Enrollment{}).Count(&before).Error)
				rows, err := roster.ParseCSV(strings.NewReader(tc.csv))
				require.NoError(t, err)
				_, err = roster.Import(ctx, db.DB, tc.actor, target.ID, rows)
				var ve *roster.ValidationError
				switch {
				case tc.err != nil:
					require.ErrorIs(t, err, tc.err)
				case tc.refused != nil:
					require.True(t, errors.As(err, &ve), "want refused rows, got %v", err)
					got := map[int]string{}
					for _, r := range ve.Rows {
						got[r.Line] = r.Code
						require.NotContains(t, r.Message, "fmallory", "a refusal does not echo the new platform id")
					}
					require.Equal(t, tc.refused, got)
				default:
					require.NoError(t, err)
				}
				if err != nil {
					var after int64
					require.NoError(t, db.Model(&store.Enrollment{}).Count(&after).Error)
					require.Equal(t, before, after, "a refused import enrolls nobody")
				}
				for ext, want := range tc.want {
					var e store.Employee
					err := db.Where("external_id = ?", ext).Take(&e).Error
					if want == "" {
						require.Error(t, err, "%s must not have been created", ext)
						continue
					}
					require.NoError(t, err)
					require.Equal(t, want, e.Name+"/"+e.Department+"/"+e.FeishuID, ext)
				}
			})
		})
	}
}

func TestImportRefusalNamesTheFields(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	o := seedOwnership(t, db)
	rows, err := roster.ParseCSV(strings.NewReader("external_id,name,department,feishu_id\nE1,Eve,Evil,fmallory\n"))
	require.NoError(t, err)
	_, err = roster.Import(context.Background(), db.DB, roster.AsCoordinator("alice"), o.alice.ID, rows)
	var ve *roster.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, `employee "E1" is also on sessions you do not manage; only an admin may change their department, feishu_id`, ve.Rows[0].Message)

	_, err = roster.Import(context.Background(), db.DB, roster.Actor{}, o.alice.ID, rows)
	require.ErrorIs(t, err, roster.ErrNotManaged, "an actor with no role imports nothing")
	_, err = roster.Import(context.Background(), db.DB, roster.AsCoordinator("alice"), 0, rows)
	require.ErrorIs(t, err, roster.ErrNotManaged, "a coordinator imports only into a session")
}
