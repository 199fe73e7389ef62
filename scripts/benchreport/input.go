package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The raw files the bench scripts write into one directory. Each is
// optional: a missing file leaves its section out of the report.
const (
	fileMeta  = "meta.tsv"   // key, value
	fileStart = "start.json" // hyperfine --export-json: start-to-exit
	fileRSS   = "rss.tsv"    // command name, peak RSS in KiB
	fileScale = "scale.tsv"  // runtime, containers, seconds, failures
	fileSeq   = "seq.json"   // hyperfine --export-json: one command, every run's time
	fileLeaks = "leaks.tsv"  // what, count left, detail
	fileTCP   = "tcp.tsv"    // path (veth, loopback), bytes, seconds
	fileInit  = "init.json"  // hyperfine --export-json: init as PID 1
	fileSizes = "sizes.tsv"  // artefact, bytes
)

// command is one command of a hyperfine run; times are in seconds.
type command struct {
	Name  string    `json:"command"`
	Mean  float64   `json:"mean"`
	Min   float64   `json:"min"`
	Times []float64 `json:"times"`
}

// named is a value with its label, in the order the raw file lists it.
type named struct {
	Name  string
	Value float64
}

type scaleRow struct {
	Runtime  string
	N        int
	Seconds  float64
	Failures int
}

type leak struct {
	What   string
	Count  int
	Detail string
}

// results is everything one make bench run measured.
type results struct {
	Meta  map[string]string
	Start []command
	RSS   map[string]float64
	Scale []scaleRow
	Seq   []command
	Leaks []leak
	TCP   map[string][]float64 // MiB/s of each repetition, by path
	Init  []command
	Sizes []named
}

// load reads the raw files in dir.
func load(dir string) (*results, error) {
	r := &results{Meta: map[string]string{}, RSS: map[string]float64{}, TCP: map[string][]float64{}}
	steps := []struct {
		file string
		read func(path string) error
	}{
		{fileMeta, func(p string) error {
			return eachRow(p, 2, func(f []string) error { r.Meta[f[0]] = f[1]; return nil })
		}},
		{fileStart, func(p string) (err error) { r.Start, err = readHyperfine(p); return err }},
		{fileRSS, func(p string) error {
			return eachRow(p, 2, func(f []string) error {
				v, err := number(f[1])
				r.RSS[f[0]] = v
				return err
			})
		}},
		{fileScale, func(p string) error {
			return eachRow(p, 4, func(f []string) error {
				n, err1 := strconv.Atoi(f[1])
				s, err2 := number(f[2])
				fail, err3 := strconv.Atoi(f[3])
				r.Scale = append(r.Scale, scaleRow{f[0], n, s, fail})
				return errors.Join(err1, err2, err3)
			})
		}},
		{fileSeq, func(p string) (err error) { r.Seq, err = readHyperfine(p); return err }},
		{fileLeaks, func(p string) error {
			return eachRow(p, 3, func(f []string) error {
				n, err := strconv.Atoi(f[1])
				r.Leaks = append(r.Leaks, leak{f[0], n, f[2]})
				return err
			})
		}},
		{fileTCP, func(p string) error {
			return eachRow(p, 3, func(f []string) error {
				b, err1 := number(f[1])
				s, err2 := number(f[2])
				if err := errors.Join(err1, err2); err != nil || s <= 0 {
					return fmt.Errorf("bytes %q, seconds %q: want numbers, seconds > 0", f[1], f[2])
				}
				r.TCP[f[0]] = append(r.TCP[f[0]], b/(1<<20)/s)
				return nil
			})
		}},
		{fileInit, func(p string) (err error) { r.Init, err = readHyperfine(p); return err }},
		{fileSizes, func(p string) error {
			return eachRow(p, 2, func(f []string) error {
				v, err := number(f[1])
				r.Sizes = append(r.Sizes, named{f[0], v})
				return err
			})
		}},
	}
	for _, s := range steps {
		err := s.read(filepath.Join(dir, s.file))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

func number(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// readHyperfine reads the results of hyperfine's --export-json.
func readHyperfine(path string) ([]command, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []command `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Results, nil
}

// eachRow calls row with the tab-separated fields of every non-empty line
// of path that does not start with '#'; a line must have n fields.
func eachRow(path string, n int, row func(fields []string) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != n {
			return fmt.Errorf("%s:%d: %d tab-separated fields, want %d", path, i+1, len(f), n)
		}
		if err := row(f); err != nil {
			return fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
	}
	return nil
}
