package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// chart is a horizontal bar chart of ratios to a reference (the peer the
// bars are divided by), drawn as a dashed line at Ref.
type chart struct {
	File  string // name of the SVG file
	Title string
	Ref   float64 // where the reference line is drawn, usually 1
	Bars  []named
}

// Layout of a chart, in SVG user units.
const (
	svgWidth  = 720
	labelW    = 250 // labels, right-aligned against the bars
	barMax    = 380 // the longest bar
	rowH      = 26
	barH      = 18
	topH      = 40 // title
	bottomH   = 16
	valueFont = 12
)

// svg draws c as a standalone SVG document. Every bar is one
// <rect class="bar">, so a reader (or a test) can count them.
func (c chart) svg() []byte {
	top := c.Ref
	for _, b := range c.Bars {
		top = math.Max(top, b.Value)
	}
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		top = 1
	}
	scale := barMax / top
	h := topH + rowH*len(c.Bars) + bottomH
	var w bytes.Buffer
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		svgWidth, h, svgWidth, h, valueFont)
	fmt.Fprintf(&w, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, h)
	fmt.Fprintf(&w, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", 10, esc(c.Title))
	for i, b := range c.Bars {
		y := topH + rowH*i
		v := b.Value
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			v = 0
		}
		bw := v * scale
		fill := "#4c78a8"
		if v > c.Ref {
			fill = "#e45756"
		}
		fmt.Fprintf(&w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+barH-4, esc(b.Name))
		fmt.Fprintf(&w, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
			labelW, y, bw, barH, fill, esc(b.Name), ratio(b.Value))
		fmt.Fprintf(&w, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(labelW)+bw+6, y+barH-4, ratio(b.Value))
	}
	x := float64(labelW) + c.Ref*scale
	fmt.Fprintf(&w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333" stroke-dasharray="4 3"/>`+"\n", x, topH-6, x, h-bottomH+4)
	fmt.Fprintf(&w, `<text x="%.1f" y="%d" text-anchor="middle" font-size="10">%s</text>`+"\n", x, h-2, ratio(c.Ref))
	w.WriteString("</svg>\n")
	return w.Bytes()
}

// ratio formats a ratio as the report and the charts print it.
func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v)
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
