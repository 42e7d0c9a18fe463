package store

import "errors"

// ErrNotFound is the one "no such row" error of learnloop: bot, plan and
// surveys return it (wrapped, with what was missing), so errors.Is(err,
// store.ErrNotFound) holds whichever package a caller went through.
var ErrNotFound = errors.New("not found")
