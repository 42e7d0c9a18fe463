package reports_test

import "github.com/learnloop/learnloop/reports"

func init() { reports.SeedHook = seed10k }
