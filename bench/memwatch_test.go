package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// measureRound runs one measured round of a fan-out (run) and returns its
// seconds, its peak RSS in MB and whether the peak was reset for it. Before
// it starts, the pages the set-up and the baseline freed are handed back to
// the kernel (debug.FreeOSMemory: after a bare runtime.GC they stayed
// resident, and a round's peak RSS started from 130–140 MB of which the
// product held nothing: the baseline's 100,000 rows freed but kept); then
// the peak RSS starts afresh and the runtime's memory is watched (memWatch,
// printed after the round).
func measureRound(name string, run func()) (secs, rss float64, reset bool) {
	debug.FreeOSMemory()
	reset = resetPeakRSS()
	w := watchMem(name)
	t0 := time.Now()
	run()
	secs = time.Since(t0).Seconds()
	fmt.Printf("  %s: %s\n", name, w.end())
	return secs, peakRSS(), reset
}

// rssNow reads the process's current resident set size in MB.
func rssNow() float64 { return procStatusMB("VmRSS:") }

// procStatusMB reads one kB field of /proc/self/status in MB (0 when it
// cannot).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// memWatch samples the Go runtime's memory classes while a measured run
// goes on and keeps the sample with the most memory mapped and not
// released (the Go side of the peak RSS). With LEARNLOOP_BENCH_HEAPPROFILE
// set to a directory it also writes a heap profile there at each new high
// of live heap objects (at most every 100 ms; the profile is as of the last
// GC), named after the round.
type memWatch struct {
	stop chan struct{}
	done sync.WaitGroup

	// floor is the RSS when the watch started (what the process held
	// before the measured run: roster, caches, freed pages of the
	// baseline not yet returned to the kernel).
	floor float64
	peak  memSample
}

// memSample is one reading of the runtime's memory classes, in MB.
type memSample struct {
	// Total is everything the runtime has mapped minus what it released.
	Total, HeapObjects, HeapFree, HeapUnused, Stacks, Other float64
}

var memNames = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
}

func readMem(s []metrics.Sample) memSample {
	metrics.Read(s)
	mb := func(i int) float64 { return float64(s[i].Value.Uint64()) / (1 << 20) }
	m := memSample{Total: mb(0) - mb(1), HeapObjects: mb(2), HeapFree: mb(3), HeapUnused: mb(4), Stacks: mb(5) + mb(6)}
	m.Other = m.Total - m.HeapObjects - m.HeapFree - m.HeapUnused - m.Stacks
	return m
}

// watchMem starts a memWatch for the round named name.
func watchMem(name string) *memWatch {
	w := &memWatch{stop: make(chan struct{}), floor: rssNow()}
	dir := os.Getenv("LEARNLOOP_BENCH_HEAPPROFILE")
	s := make([]metrics.Sample, len(memNames))
	for i, n := range memNames {
		s[i].Name = n
	}
	w.done.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var maxObjects float64
		var lastProfile time.Time
		for {
			m := readMem(s)
			if m.Total > w.peak.Total {
				w.peak = m
			}
			if dir != "" && m.HeapObjects > maxObjects && time.Since(lastProfile) > 100*time.Millisecond {
				maxObjects, lastProfile = m.HeapObjects, time.Now()
				if f, err := os.Create(filepath.Join(dir, name+".heap.pprof")); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					_ = f.Close()
				}
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	})
	return w
}

// end stops the watch and describes what it saw.
func (w *memWatch) end() string {
	close(w.stop)
	w.done.Wait()
	p := w.peak
	return fmt.Sprintf("RSS before %.0f MB; Go runtime at its peak %.0f MB: heap objects %.0f, free heap %.0f, unused %.0f, stacks %.1f, other %.0f",
		w.floor, p.Total, p.HeapObjects, p.HeapFree, p.HeapUnused, p.Stacks, p.Other)
}
