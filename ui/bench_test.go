package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sailresearch/sail/internal/event"
)

// BenchmarkFlood drives the model with 100,000 prepared delivery events as
// the queue hands them over (batches of 1,000, a frame drawn after each),
// and reports events absorbed per second. One op is the whole flood.
func BenchmarkFlood(b *testing.B) {
	for _, mode := range []struct {
		name string
		m    Mode
	}{{"listen", ModeListen}, {"run", ModeRun}} {
		b.Run(mode.name, func(b *testing.B) {
			evs := make([]event.Event, flood)
			for i := range evs {
				evs[i] = floodEv(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var tm tea.Model = NewModel(Options{Mode: mode.m, NoColor: true})
				tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
				for i := 0; i < len(evs); i += 1000 {
					tm, _ = tm.Update(batchMsg{evs: evs[i : i+1000]})
					_ = tm.View()
				}
			}
			b.ReportMetric(float64(b.N*flood)/b.Elapsed().Seconds(), "events/s")
		})
	}
	// Baseline: what the view would cost if every event were its own
	// message (one redraw per event), as before the queue. A hundredth of the
	// events, so the run stays short; compare events/s.
	b.Run("listen-frame-per-event", func(b *testing.B) {
		const n = flood / 100
		evs := make([]event.Event, n)
		for i := range evs {
			evs[i] = floodEv(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			var tm tea.Model = NewModel(Options{Mode: ModeListen, NoColor: true})
			tm, _ = tm.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
			for _, e := range evs {
				tm, _ = tm.Update(EventMsg{Event: e})
				_ = tm.View()
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
	})
}
