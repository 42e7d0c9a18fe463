package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
)

func TestEmployeeChanges(t *testing.T) {
	t.Parallel()
	old := store.Employee{ID: 7, ExternalID: "E1", Name: "张三", Department: "销售部", Mobile: "13800000000", Active: true}
	tests := []struct {
		name string
		edit func(e *store.Employee)
		keep func(col string) bool
		want map[string]any
	}{
		{"nothing differs", func(*store.Employee) {}, nil, map[string]any{}},
		{"profile, platform id and active", func(e *store.Employee) {
			e.Name, e.FeishuID, e.Active = "张三丰", "ou_1", false
		}, nil, map[string]any{"name": "张三丰", "feishu_id": "ou_1", "active": false}},
		{"ids and external id are never columns to change", func(e *store.Employee) {
			e.ID, e.ExternalID = 8, "E2"
		}, nil, map[string]any{}},
		{"keep picks the columns", func(e *store.Employee) {
			e.Name, e.Tags, e.Locale = "李四", "vip", "en"
		}, func(col string) bool { return col != "name" }, map[string]any{"tags": "vip", "locale": "en"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := old
			tc.edit(&want)
			require.Equal(t, tc.want, store.EmployeeChanges(&old, &want, tc.keep))
		})
	}
}
