package experiment

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// Pick returns the index of the variant a person gets in an experiment:
// the variants' weights laid end to end, and HMAC-SHA256(key,
// scope:employee) read as a number picks one. The key is secret, so the
// split is as good as random to anyone without it, and the same person
// always gets the same variant of the same scope (a campaign's id, a
// touchpoint's "tp<id>"). It returns -1 when no weight is positive.
func Pick(key []byte, scope string, employeeID uint64, weights []int) int {
	total := 0
	for _, w := range weights {
		total += max(w, 0)
	}
	if total <= 0 {
		return -1
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(scope + ":" + strconv.FormatUint(employeeID, 10)))
	x := binary.BigEndian.Uint64(m.Sum(nil)[:8]) % uint64(total)
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		if x < uint64(w) {
			return i
		}
		x -= uint64(w)
	}
	return len(weights) - 1
}
