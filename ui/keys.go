package ui

import "charm.land/bubbles/v2/key"

// keyMap holds every key the TUI answers to; help is generated from it, so a
// key that is not here does not exist.
type keyMap struct {
	// Select only documents Up and Down together in the short help.
	Select             key.Binding
	Up, Down           key.Binding
	Top, Bottom        key.Binding
	NextTab, PrevTab   key.Binding
	PageUp, PageDown   key.Binding
	Search             key.Binding
	NextMatch          key.Binding
	PrevMatch          key.Binding
	Replay, Save, Copy key.Binding
	Help               key.Binding
	Quit               key.Binding
	Esc                key.Binding
}

func newKeyMap() keyMap {
	// Descriptions are short so that the full help fits 60 columns.
	return keyMap{
		Select:    key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑↓/jk", "select")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:       key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		Bottom:    key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom, then older")),
		NextTab:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next tab")),
		PrevTab:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev tab")),
		PageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "scroll down")),
		Search:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		NextMatch: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
		PrevMatch: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
		Replay:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replay")),
		Save:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save file")),
		Copy:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Esc:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
	}
}

// ShortHelp implements help.KeyMap: the one-line footer.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Select, k.NextTab, k.Search, k.Replay, k.Save, k.Copy, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap: the `?` view, grouped in columns.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.NextTab, k.PrevTab, k.Search, k.NextMatch, k.PrevMatch, k.Esc},
		{k.Replay, k.Save, k.Copy, k.Help, k.Quit},
	}
}

// setSearching enables the match keys only while a search is active, which
// both routes n/N correctly and keeps them out of the help until they work.
func (k *keyMap) setSearching(active bool) {
	k.NextMatch.SetEnabled(active)
	k.PrevMatch.SetEnabled(active)
	k.Esc.SetEnabled(active)
}
