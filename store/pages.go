package store

import (
	"fmt"

	"gorm.io/gorm"
)

// RecipientColumns are the employee columns a delivery needs of its
// recipient: ids on each platform, name and locale.
var RecipientColumns = []string{"employees.id", "employees.external_id", "employees.name", "employees.platform", "employees.wecom_id",
	"employees.feishu_id", "employees.dingtalk_id", "employees.locale"}

// EmployeePages reads the employees query selects — their RecipientColumns —
// n at a time, by keyset on the employee id (each person in one page, pages
// in id order), and calls f with each page; it returns the first error.
// query builds the statement afresh for each page (a GORM statement is not
// reused). The page's slice is reused for the next one (one array of n for
// the whole audience, not a growing slice per page), so f must not keep it.
func EmployeePages(n int, query func() (*gorm.DB, error), f func([]Employee) error) error {
	if n <= 0 {
		return fmt.Errorf("employee pages: page size %d", n)
	}
	var last uint64
	page := make([]Employee, 0, n)
	for {
		q, err := query()
		if err != nil {
			return err
		}
		page = page[:0]
		if err := q.Select(RecipientColumns).Where("employees.id > ?", last).Order("employees.id").Limit(n).Find(&page).Error; err != nil {
			return fmt.Errorf("employee pages: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		last = page[len(page)-1].ID
		if err := f(page); err != nil {
			return err
		}
		if len(page) < n {
			return nil
		}
	}
}
