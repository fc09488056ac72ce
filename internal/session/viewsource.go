package session

import (
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/ui"
)

// The interactive view holds rows without bodies; these adapters let it
// read a selected delivery, and older ones, back from the history. They are
// the only place the view meets the store.

// Loader reads one delivery's body and headers by record id; nil with
// --no-history.
func Loader(st *store.Store) func(string) (ui.Stored, error) {
	if st == nil {
		return nil
	}
	return func(id string) (ui.Stored, error) {
		rec, err := st.Get(id)
		if err != nil {
			return ui.Stored{}, err
		}
		return ui.Stored{Body: rec.Body, Headers: rec.Headers}, nil
	}
}

// Older lists up to n deliveries stored before the record before,
// newest first, without bodies; nil with --no-history.
func Older(st *store.Store) func(string, int) ([]event.Delivery, error) {
	if st == nil {
		return nil
	}
	return func(before string, n int) ([]event.Delivery, error) {
		sums, err := st.List(0) // newest first; ids sort by time
		if err != nil {
			return nil, err
		}
		var out []event.Delivery
		for _, s := range sums {
			if s.ID >= before {
				continue
			}
			out = append(out, summaryDelivery(s))
			if len(out) == n {
				break
			}
		}
		return out, nil
	}
}

func summaryDelivery(s store.Summary) event.Delivery {
	return event.Delivery{
		RecordID: s.ID, Attempt: s.Attempt, Verdict: s.Verdict, HTTPStatus: s.HTTPStatus,
		Bytes: s.Bytes, Duplicate: s.Duplicate, ReceivedAt: s.ReceivedAt, RemoteAddr: s.RemoteAddr,
		ResponseID: s.ResponseID, ResponseStatus: s.ResponseStatus, Object: s.Object, Model: s.Model,
		Excerpt: s.Excerpt, Error: s.Error,
	}
}
