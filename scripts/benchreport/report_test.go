package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t *testing.T) *results {
	t.Helper()
	r, err := load("testdata/raw")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The tables carry the fixture's values and the ratios to the peers.
func TestRenderTables(t *testing.T) {
	rep := render(fixture(t), "img/")
	for _, want := range []string{
		"| stdcontainer launcher | 14.00 | 10.00 | 2.00× | 7000 | 2.00× |",
		"| crun, cgroupfs | 7.00 | 6.00 | 1.00× | 3500 | 1.00× |",
		"| stdcontainer, limits | 15.00 | 11.00 | 2.14× | — | n/a |",
		"- with `--memory 64m --pids-limit 64 --cpus 1`: launcher / crun, same limits: 1.50×",
		"- `--network nat -p 8080:80` / private network: 2.00×",
		"| 1 | 0.020 | 0 | 0.010 | 0 | 2.00× |",
		"| 10 | 0.300 | 0 | — | — | n/a |",
		"| 100 | 3.000 | 0 | 1.500 | 0 | 2.00× |",
		"| 1000 | 10.00 | 11.00 | 1.10× |",
		"Left behind after the runs: none.",
		"| loopback | 2048 | 1.00× |",
		"| veth | 512 | 0.25× |",
		"| stdcontainer init | 3.50 | 3.00 | +1.50 | 3.00× |",
		"| true alone | 2.00 | 1.50 | — |  |",
		"| stdcontainer init | 1,572,990 | 2.22× |",
		"![Start-to-exit, mean / crun, cgroupfs (lower is better)](img/start.svg)",
		"(median of 3 rounds)",
		"kernel 6.18.0",
		"sends 1024 MiB 3 times",
	} {
		if !strings.Contains(rep.Markdown, want) {
			t.Errorf("report lacks %q:\n%s", want, rep.Markdown)
		}
	}
	// Rows 1, 10, 100 in numeric order.
	if i, j := strings.Index(rep.Markdown, "| 10 |"), strings.Index(rep.Markdown, "| 100 |"); i < 0 || j < i {
		t.Error("scale rows out of order")
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems %q in a clean fixture", rep.Problems)
	}
	var files []string
	for _, c := range rep.Charts {
		files = append(files, c.File)
	}
	if got := strings.Join(files, " "); got != "start.svg rss.svg scale.svg init.svg sizes.svg" {
		t.Errorf("charts %s", got)
	}
}

// A failed start and a leaked resource are problems, and the report says so.
func TestRenderProblems(t *testing.T) {
	r := fixture(t)
	r.Scale = append(r.Scale, scaleRow{"launcher", 50, 1, 2})
	r.Leaks = append(r.Leaks, leak{"veths", 1, "ip link"})
	rep := render(r, "")
	if len(rep.Problems) != 2 {
		t.Errorf("problems %q, want 2", rep.Problems)
	}
	if !strings.Contains(rep.Markdown, "**1 things left**") || !strings.Contains(rep.Markdown, "| 50 | 1.000 | 2 |") {
		t.Errorf("report hides the problems:\n%s", rep.Markdown)
	}
}

// Sections whose raw files are missing are left out, not failed.
func TestRenderPartial(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{fileInit, fileSizes} {
		b, err := os.ReadFile(filepath.Join("testdata/raw", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	r, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := render(r, "")
	if strings.Contains(rep.Markdown, "### Start-to-exit") || !strings.Contains(rep.Markdown, "### Init overhead") || len(rep.Charts) != 2 {
		t.Errorf("partial report:\n%s", rep.Markdown)
	}
}

func TestLoadRejectsBadRows(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, fileScale), []byte("launcher\t10\tfast\t0\n"), 0o644)
	if _, err := load(dir); err == nil || !strings.Contains(err.Error(), "scale.tsv:1") {
		t.Errorf("err = %v, want one naming scale.tsv:1", err)
	}
}

// Every chart is well-formed XML with one bar per entry.
func TestChartsAreSVG(t *testing.T) {
	rep := render(fixture(t), "")
	rep.Charts = append(rep.Charts, chart{File: "odd.svg", Title: `<a & "b">`, Ref: 1,
		Bars: []named{{"x < y", 0.5}, {"nan", div(1, 0)}, {"big", 40}}})
	for _, c := range rep.Charts {
		bars, root := 0, ""
		d := xml.NewDecoder(bytes.NewReader(c.svg()))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", c.File, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				if root == "" {
					root = se.Name.Local
				}
				for _, a := range se.Attr {
					if se.Name.Local == "rect" && a.Name.Local == "class" && a.Value == "bar" {
						bars++
					}
				}
			}
		}
		if root != "svg" || bars != len(c.Bars) {
			t.Errorf("%s: root %q, %d bars, want svg and %d", c.File, root, bars, len(c.Bars))
		}
	}
}

// run writes the report, copies it to docs and rewrites only the README's
// block, with image links relative to the README.
func TestRunPublishes(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	os.WriteFile(readme, []byte("# x\n\nprose before\n"+markBegin+"\nold numbers\n"+markEnd+"\nprose after\n"), 0o644)
	if err := run("testdata/raw", filepath.Join(dir, "out"), filepath.Join(dir, "docs", "bench"), readme); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"out/report.md", "out/start.svg", "docs/bench/report.md", "docs/bench/sizes.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	b, _ := os.ReadFile(readme)
	s := string(b)
	if strings.Contains(s, "old numbers") || !strings.HasPrefix(s, "# x\n\nprose before\n"+markBegin+"\n") ||
		!strings.HasSuffix(s, markEnd+"\nprose after\n") || !strings.Contains(s, "](docs/bench/start.svg)") {
		t.Errorf("README:\n%s", s)
	}
	// A second run gives the same README (the block is replaced, not added to).
	if err := run("testdata/raw", filepath.Join(dir, "out"), filepath.Join(dir, "docs", "bench"), readme); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(readme); !bytes.Equal(b, b2) {
		t.Error("second run changed the README")
	}
}

func TestSpliceNeedsMarkers(t *testing.T) {
	if _, err := splice([]byte("no markers"), "x"); err == nil {
		t.Error("no error without markers")
	}
}

// FuzzReport: whatever a raw file holds, load refuses it or render makes
// a report whose charts are well-formed SVG; neither panics.
func FuzzReport(f *testing.F) {
	files := []string{fileMeta, fileStart, fileRSS, fileScale, fileSeq, fileLeaks, fileTCP, fileInit, fileSizes}
	for i, name := range files {
		if data, err := os.ReadFile(filepath.Join("testdata", "raw", name)); err == nil {
			f.Add(uint8(i), data)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, files[int(which)%len(files)]), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := load(dir)
		if err != nil {
			return
		}
		rep := render(r, "docs/bench")
		for _, c := range rep.Charts {
			if err := xml.Unmarshal(c.svg(), new(struct{})); err != nil {
				t.Errorf("chart %s: not XML: %v", c.File, err)
			}
		}
	})
}
