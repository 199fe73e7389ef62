package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stdcontainer/stdcontainer/init/probe"
)

// Legend defines the cell values; it is printed with every matrix.
var Legend = map[string]string{
	probe.Yes: "the probe (or the stated check) saw the feature in a run of this runtime",
	probe.No: "the runtime has the feature but no run showed it, or it lacks a feature the RFC asks of every runtime " +
		"(every row but the three networking types); the note says which",
	probe.NA: "a networking type the runtime does not offer (the RFC does not ask for all three)",
}

// Matrix is everything one measurement produced.
type Matrix struct {
	Date    string            `json:"date"` // YYYY-MM-DD
	Command string            `json:"command"`
	Kernel  string            `json:"kernel"`
	Host    Host              `json:"host"`
	Legend  map[string]string `json:"legend"`
	Columns []Column          `json:"columns"`
	Rows    []JudgedRow       `json:"rows"`
	Missing []string          `json:"missing,omitempty"` // runtimes that could not be measured, and why
}

// JudgedRow is one matrix row with a cell per column, in column order.
type JudgedRow struct {
	Row
	Cells []Cell `json:"cells"`
}

// Build judges every cell.
func Build(m *Matrix) {
	m.Legend = Legend
	m.Rows = nil
	for _, r := range Rows {
		jr := JudgedRow{Row: r}
		for i := range m.Columns {
			jr.Cells = append(jr.Cells, Judge(r, &m.Columns[i], m.Host))
		}
		m.Rows = append(m.Rows, jr)
	}
}

// JSON renders m, indented, with a final newline.
func (m *Matrix) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// Markdown renders the table, the legend, a note on every cell that is not
// yes, and what was run.
func (m *Matrix) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s with `%s` (kernel %s; every runtime inside a throwaway network and mount namespace).\n\n", m.Date, m.Command, m.Kernel)
	b.WriteString("| RFC row |")
	for _, c := range m.Columns {
		b.WriteString(" " + c.Runtime + " |")
	}
	b.WriteString(" how judged |\n|---|")
	b.WriteString(strings.Repeat("---|", len(m.Columns)+1) + "\n")
	type note struct{ row, runtime, text string }
	var notes []note
	for _, r := range m.Rows {
		b.WriteString("| " + r.Name + " |")
		for i, c := range r.Cells {
			b.WriteString(" " + c.Status + " |")
			if c.Status != probe.Yes {
				notes = append(notes, note{r.Name, m.Columns[i].Runtime, c.Evidence})
			}
		}
		b.WriteString(" " + cellText(r.How) + " |\n")
	}
	b.WriteString("\n")
	for _, s := range []string{probe.Yes, probe.No, probe.NA} {
		fmt.Fprintf(&b, "- **%s**: %s.\n", s, m.Legend[s])
	}
	if len(notes) > 0 {
		b.WriteString("\nCells that are not yes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s, %s: %s\n", n.runtime, n.row, cellText(n.text))
		}
	}
	b.WriteString("\nRuntimes:")
	for i, c := range m.Columns {
		sep := ", "
		if i == 0 {
			sep = " "
		}
		fmt.Fprintf(&b, "%s%s %s (%d runs)", sep, c.Runtime, c.Version, len(c.Runs))
	}
	b.WriteString(".\n")
	for _, s := range m.Missing {
		b.WriteString("Not measured: " + cellText(s) + ".\n")
	}
	return b.String()
}

// cellText keeps a string on one table line: pipes escaped, no line breaks,
// backticks (which would open code spans) dropped.
func cellText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "`", "")
	return strings.ReplaceAll(s, "|", `\|`)
}

// Markers delimit the generated matrix in the README.
const (
	BeginMarker = "<!-- matrix:begin -->"
	EndMarker   = "<!-- matrix:end -->"
)

// Splice replaces what lies between the markers in doc with body.
func Splice(doc, body string) (string, error) {
	i := strings.Index(doc, BeginMarker)
	j := strings.Index(doc, EndMarker)
	if i < 0 || j < i || strings.Count(doc, BeginMarker) != 1 || strings.Count(doc, EndMarker) != 1 {
		return "", fmt.Errorf("want one %s followed by one %s", BeginMarker, EndMarker)
	}
	return doc[:i+len(BeginMarker)] + "\n" + strings.TrimRight(body, "\n") + "\n" + doc[j:], nil
}
