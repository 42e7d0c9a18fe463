//go:build !linux

package chaos

import "os/exec"

// orphanProof is a no-op where Pdeathsig does not exist; t.Cleanup still
// kills every child.
func orphanProof(*exec.Cmd) {}
