package chaos

import (
	"os/exec"
	"syscall"
)

// orphanProof makes the kernel kill cmd when the test process dies before
// its cleanup runs (a timeout panic, a kill): no replica outlives the run.
func orphanProof(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
