package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// styles is the palette of the TUI. Every colour is chosen for the terminal's
// background (light or dark); with NoColor every style is empty, so Render
// returns its input unchanged and the view carries no SGR sequence at all.
type styles struct {
	title    lipgloss.Style
	dim      lipgloss.Style
	label    lipgloss.Style
	value    lipgloss.Style
	ok       lipgloss.Style
	bad      lipgloss.Style
	warn     lipgloss.Style
	running  lipgloss.Style // status chip while the response is not final
	selected lipgloss.Style // the selected timeline or list row
	tabOn    lipgloss.Style
	tabOff   lipgloss.Style
	rule     lipgloss.Style
	badge    lipgloss.Style

	jsonKey    lipgloss.Style
	jsonString lipgloss.Style
	jsonNumber lipgloss.Style
	jsonLit    lipgloss.Style // true, false, null
	jsonPunct  lipgloss.Style
	match      lipgloss.Style
	matchCur   lipgloss.Style

	// marks wraps search matches when there is no colour to show them.
	marks bool

	// paints are the payload styles as raw SGR affixes: the Payload tab
	// renders thousands of small pieces, where lipgloss's Render dominates.
	paints [clsPunct + 1]paint
	pMatch paint
	pCur   paint
}

// paint is a style reduced to the sequences around a piece of text. It is
// only valid for single-line text without tabs, which payload lines are.
type paint struct{ pre, post string }

func paintOf(s lipgloss.Style) paint {
	const mark = "M"
	r := s.Render(mark)
	i := strings.Index(r, mark)
	if i < 0 {
		return paint{}
	}
	return paint{pre: r[:i], post: r[i+len(mark):]}
}

func (p paint) render(s string) string {
	if p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

// withPaints fills the paint cache from the styles.
func (s styles) withPaints() styles {
	for c := range s.paints {
		s.paints[c] = paintOf(s.forClass(class(c)))
	}
	s.pMatch, s.pCur = paintOf(s.match), paintOf(s.matchCur)
	return s
}

func newStyles(dark, noColor bool) styles {
	if noColor {
		return styles{marks: true}.withPaints()
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) lipgloss.Style {
		return lipgloss.NewStyle().Foreground(ld(lipgloss.Color(light), lipgloss.Color(darkc)))
	}
	return styles{
		title:    c("#5A3FC0", "#B9A6FF").Bold(true),
		dim:      c("#6E6E6E", "#8A8A8A"),
		label:    c("#4A4A4A", "#B0B0B0"),
		value:    c("#1F1F1F", "#EDEDED"),
		ok:       c("#1A7F37", "#56D364"),
		bad:      c("#CF222E", "#FF7B72"),
		warn:     c("#9A6700", "#E3B341"),
		running:  c("#0969DA", "#79C0FF"),
		selected: lipgloss.NewStyle().Bold(true).Background(ld(lipgloss.Color("#E8E2FF"), lipgloss.Color("#2D2558"))),
		tabOn:    c("#5A3FC0", "#B9A6FF").Bold(true),
		tabOff:   c("#6E6E6E", "#8A8A8A"),
		rule:     c("#D0D0D0", "#3C3C3C"),
		badge:    c("#8250DF", "#D2A8FF").Bold(true),

		jsonKey:    c("#0550AE", "#79C0FF"),
		jsonString: c("#0A3069", "#A5D6FF"),
		jsonNumber: c("#953800", "#FFA657"),
		jsonLit:    c("#8250DF", "#D2A8FF"),
		jsonPunct:  c("#6E6E6E", "#8B949E"),
		match: lipgloss.NewStyle().
			Foreground(lipgloss.Color("#1F1F1F")).
			Background(ld(lipgloss.Color("#FFE58F"), lipgloss.Color("#BB8009"))),
		matchCur: lipgloss.NewStyle().Bold(true).
			Foreground(lipgloss.Color("#1F1F1F")).
			Background(ld(lipgloss.Color("#FF9E3D"), lipgloss.Color("#FFA657"))),
	}.withPaints()
}

// helpStyles matches the bubbles help view to the palette.
func helpStyles(dark, noColor bool) help.Styles {
	if noColor {
		return help.Styles{}
	}
	return help.DefaultStyles(dark)
}

// applyStyles rebuilds the palette after the background became known.
func (m *Model) applyStyles() {
	m.styles = newStyles(m.dark, m.opts.NoColor)
	m.help.Styles = helpStyles(m.dark, m.opts.NoColor)
	if m.opts.NoColor {
		m.spin.Style = lipgloss.NewStyle()
	} else {
		m.spin.Style = m.styles.running
	}
}
