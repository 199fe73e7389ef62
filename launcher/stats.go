package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// statsSample is one line of `launcher stats`, docker-stats-like.
type statsSample struct {
	ID, Name       string
	CPUPercent     float64 // of one CPU, over the sampling interval
	MemoryUsage    uint64
	MemoryLimit    uint64 // 0 = unlimited
	MemoryPercent  float64
	Pids           uint64
	PidsLimit      uint64 // 0 = unlimited
	BlockRead      uint64
	BlockWrite     uint64
	CPUNanoseconds uint64
}

// stats samples each container's cgroups twice, interval apart (CPU% needs
// two readings), prints, and repeats unless noStream.
func stats(store *state.Store, refs []string, noStream bool, format string) int {
	var containers []*state.Container
	for _, ref := range refs {
		c, err := store.Get(ref)
		if err != nil {
			return fail(1, err)
		}
		if !state.Alive(c) || len(c.CgroupPaths) == 0 {
			return fail(1, fmt.Errorf("container %s is not running", ref))
		}
		containers = append(containers, c)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	const interval = 500 * time.Millisecond
	prev := make([]cgroups.Stats, len(containers))
	for i, c := range containers {
		prev[i], _ = cgroups.StatsFromPaths(c.CgroupPaths)
	}
	for {
		select {
		case <-stop:
			return 0
		case <-time.After(interval):
		}
		samples := make([]statsSample, 0, len(containers))
		for i, c := range containers {
			now, err := cgroups.StatsFromPaths(c.CgroupPaths)
			if err != nil {
				return fail(1, fmt.Errorf("%s: %v", c.Id[:12], err))
			}
			samples = append(samples, sample(c, prev[i], now, interval))
			prev[i] = now
		}
		printStats(samples, format)
		if noStream {
			return 0
		}
	}
}

func sample(c *state.Container, before, now cgroups.Stats, interval time.Duration) statsSample {
	s := statsSample{ID: c.Id[:12], Name: c.Name, MemoryUsage: now.MemoryUsage, MemoryLimit: now.MemoryLimit,
		Pids: now.Pids, PidsLimit: now.PidsLimit, BlockRead: now.IOReadBytes, BlockWrite: now.IOWriteBytes,
		CPUNanoseconds: now.CPUNanos}
	if now.CPUNanos >= before.CPUNanos {
		s.CPUPercent = float64(now.CPUNanos-before.CPUNanos) / float64(interval.Nanoseconds()) * 100
	}
	if s.MemoryLimit > 0 {
		s.MemoryPercent = float64(s.MemoryUsage) / float64(s.MemoryLimit) * 100
	}
	return s
}

func printStats(samples []statsSample, format string) {
	if format == "json" {
		enc := json.NewEncoder(os.Stdout)
		for _, s := range samples {
			enc.Encode(s)
		}
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS\tBLOCK I/O")
	for _, s := range samples {
		limit := "unlimited"
		if s.MemoryLimit > 0 {
			limit = humanBytes(s.MemoryLimit)
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\t%s / %s\n", s.ID, s.Name, s.CPUPercent,
			humanBytes(s.MemoryUsage), limit, s.MemoryPercent, s.Pids, humanBytes(s.BlockRead), humanBytes(s.BlockWrite))
	}
	w.Flush()
}

// humanBytes is docker's binary units: 1.5MiB.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.4g%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
