// Package ui is sail's interactive terminal front end: a Bubble Tea v2
// program that consumes the event stream of internal/event and shows the
// tunnel, the response's status, every webhook delivery and its payload.
//
// The CLI starts it with [Start] when stderr is a terminal and hands it every
// event through [Program.Emit]; scripts and CI get the NDJSON renderer
// instead. The model never writes anywhere but the Bubble Tea renderer, so it
// is safe to run while HTTP servers and tunnels work in the background.
package ui

import (
	"context"
	"io"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/sailresearch/sail/internal/event"
)

// Mode selects the screen layout.
type Mode int

const (
	// ModeRun shows one response's life: a timeline from create to the
	// final result, with the deliveries of its webhook.
	ModeRun Mode = iota
	// ModeListen shows a list of deliveries, newest first, for
	// `sail listen`, which has no response of its own.
	ModeListen
)

// Options configure the TUI. The zero value is usable: run mode, default
// input and output, no replay, files saved to ".".
type Options struct {
	Mode Mode
	// Output is the terminal the TUI draws on (stderr: stdout stays data).
	// nil means os.Stdout, Bubble Tea's default; the CLI always sets it.
	Output io.Writer
	// Input is where keys are read from; nil means the program's default
	// input, which is stdin when it is a terminal and the controlling TTY
	// otherwise.
	Input io.Reader
	// Replay re-posts a delivery to the user's app (`r`). nil when no
	// --forward-to was given; `r` then says so instead of doing anything.
	// It runs outside the update loop and must honour ctx.
	Replay func(ctx context.Context, d event.Delivery) event.Forwarded
	// SaveDir is where `s` writes payload files; "" means ".".
	SaveDir string
	// ExitOnComplete quits right after a Completed or Error event instead
	// of waiting for `q`.
	ExitOnComplete bool
	// NoColor drops every colour and text attribute (NO_COLOR, TERM=dumb):
	// the view is then plain text apart from the renderer's cursor control.
	NoColor bool
	// Now is the clock for elapsed times and timeline stamps; nil means
	// time.Now. Tests pass a fixed clock.
	Now func() time.Time
}

// EventMsg carries one event into the model; [Program.Emit] sends these.
type EventMsg struct{ Event event.Event }

// tab is one of the detail views of the selected delivery.
type tab int

const (
	tabOutput tab = iota
	tabPayload
	tabHeaders
	tabDiff
)

func (t tab) String() string {
	switch t {
	case tabOutput:
		return "Output"
	case tabPayload:
		return "Payload"
	case tabHeaders:
		return "Headers"
	case tabDiff:
		return "Diff"
	}
	return "?"
}

// delivery is a received webhook POST plus what the TUI derived from it.
type delivery struct {
	ev       event.Delivery
	pretty   []string // payload, indented, one entry per line (plain text)
	isJSON   bool     // pretty is indented JSON and gets highlighted
	output   string   // the answer text found in the payload
	forwards []event.Forwarded
	// replaying is true while a replay started with `r` is running.
	replaying bool
}

// entry is one timeline row of run mode.
type entry struct {
	at       time.Time
	ev       event.Event
	delivery int  // index into Model.deliveries for delivery rows, else -1
	replay   bool // a Forwarded row that came from `r`, not from --forward-to
}

// searchState is the `/` search over the selected payload.
type searchState struct {
	typing  bool   // the query is being edited on the footer line
	query   string // the active (or edited) query; "" means no search
	matches []match
	cur     int // index into matches of the current match
}

// match is a case-insensitive hit in the pretty payload: line index and
// byte range within that line.
type match struct{ line, start, end int }

// flash is the one-line message shown after an action (save, copy, replay).
type flash struct {
	text string
	bad  bool
}

// detailKey identifies what the viewport currently shows, so the (possibly
// large) payload is only re-rendered when something it depends on changed.
type detailKey struct {
	rev, sel, width int
	tab             tab
	query           string
	cur, nmatch     int
	dark            bool
}

// Model is the Bubble Tea model of the TUI. Build it with [NewModel]; it is
// a value type like every Bubble Tea model and is driven by its Update.
// Copies share their delivery list, so use the latest copy only, as Bubble
// Tea does.
type Model struct {
	opts Options
	ctx  context.Context
	now  func() time.Time

	start      time.Time // when the TUI started; elapsed counts from here
	finishedAt time.Time // when Completed or Error arrived

	width, height int
	dark          bool
	styles        styles
	keys          keyMap
	help          help.Model
	spin          spinner.Model
	vp            viewport.Model

	ready     *event.Ready
	created   *event.Created
	status    string // latest status of the response
	completed *event.Completed
	final     delivery // Completed.Payload prepared for display
	failure   *event.Error
	verified  *event.Verified
	notice    *event.Notice // latest notice, shown on the footer in listen mode
	done      bool          // a Completed or Error event arrived

	timeline   []entry
	deliveries []delivery // arrival order
	sel        int        // selected delivery, index into deliveries; -1 when none
	follow     bool       // keep the newest delivery selected as new ones arrive

	tab    tab
	search searchState
	flash  flash

	rev   int       // bumped by every change the detail views may show
	shown detailKey // what the viewport holds

	quitting       bool
	quitBeforeDone bool
}

// NewModel returns the initial model for o.
func NewModel(o Options) Model {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	m := Model{
		opts:   o,
		ctx:    context.Background(),
		now:    now,
		start:  now(),
		width:  80,
		height: 24,
		dark:   true,
		keys:   newKeyMap(),
		help:   help.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		vp:     viewport.New(),
		sel:    -1,
		follow: true,
		shown:  detailKey{sel: -2},
	}
	m.applyStyles()
	m.sync()
	return m
}

// clockMsg redraws listen mode's elapsed time once a second.
type clockMsg struct{}

func clockTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{} })
}

// Init starts the spinner (run) or the clock (listen, which has nothing to
// wait for and shows a steady "listening") and, with colour, asks the
// terminal for its background so the palette can adapt to light or dark
// themes.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.spin.Tick}
	if m.opts.Mode == ModeListen {
		cmds = []tea.Cmd{clockTick()}
	}
	if !m.opts.NoColor {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// selected returns the selected delivery, or nil.
func (m *Model) selected() *delivery {
	if m.sel < 0 || m.sel >= len(m.deliveries) {
		return nil
	}
	return &m.deliveries[m.sel]
}

// hasDiff reports whether the webhook payload was found to differ from GET,
// which is when the Diff tab exists.
func (m *Model) hasDiff() bool {
	if m.verified != nil && !m.verified.Matches {
		return true
	}
	if c := m.completed; c != nil && c.WebhookMatchesGet != nil && !*c.WebhookMatchesGet {
		return true
	}
	return false
}

// differences lists the JSON paths where the webhook payload and GET differ.
func (m *Model) differences() []string {
	if m.verified != nil && len(m.verified.Differences) > 0 {
		return m.verified.Differences
	}
	if m.completed != nil {
		return m.completed.Differences
	}
	return nil
}

// tabs returns the detail tabs that currently exist, in order.
func (m *Model) tabs() []tab {
	t := []tab{tabOutput, tabPayload, tabHeaders}
	if m.hasDiff() {
		t = append(t, tabDiff)
	}
	return t
}

// payloadData is the payload the detail tabs, `s` and `y` work on.
type payloadData struct {
	raw    []byte
	lines  []string // pretty-printed for display
	isJSON bool
	n      int // numbers the saved file: the delivery attempt
}

// file is what `s` writes and `y` copies: indented JSON, or the body as it
// came when it is not JSON.
func (p payloadData) file() []byte {
	if p.isJSON {
		return []byte(strings.Join(p.lines, "\n") + "\n")
	}
	return p.raw
}

// payload returns the selected delivery's payload or, when no webhook came
// (fallback poll), the final payload of the Completed event.
func (m *Model) payload() (payloadData, bool) {
	if d := m.selected(); d != nil {
		n := d.ev.Attempt
		if n <= 0 {
			n = m.sel + 1
		}
		return payloadData{raw: d.ev.Body, lines: d.pretty, isJSON: d.isJSON, n: n}, len(d.ev.Body) > 0
	}
	if m.completed != nil && len(m.completed.Payload) > 0 {
		return payloadData{raw: m.completed.Payload, lines: m.final.pretty, isJSON: m.final.isJSON}, true
	}
	return payloadData{}, false
}

// responseID is the id used in saved file names.
func (m *Model) responseID() string {
	if d := m.selected(); d != nil && d.ev.ResponseID != "" {
		return d.ev.ResponseID
	}
	if m.created != nil && m.created.ID != "" {
		return m.created.ID
	}
	if m.completed != nil && m.completed.ID != "" {
		return m.completed.ID
	}
	return ""
}

// newDelivery derives what the detail views need from a delivery event once,
// so rendering never re-parses a payload.
func newDelivery(e event.Delivery) delivery {
	d := delivery{ev: e}
	d.pretty, d.isJSON = prettyPayload(e.Body)
	d.output = outputText(e.Body)
	if d.output == "" {
		d.output = clean(e.Excerpt)
	}
	return d
}
