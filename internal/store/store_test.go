package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/secret"
)

// warnings collects Options.Warn calls.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) warn(s string) { w.mu.Lock(); w.msgs = append(w.msgs, s); w.mu.Unlock() }
func (w *warnings) all() []string { w.mu.Lock(); defer w.mu.Unlock(); return slices.Clone(w.msgs) }

func open(t testing.TB, dir string, opts Options) (*Store, *warnings) {
	t.Helper()
	w := &warnings{}
	opts.Warn = w.warn
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, w
}

// tempDir returns a directory the store creates itself (t.TempDir is 0755,
// which Open reports).
func tempDir(t testing.TB) string { return filepath.Join(t.TempDir(), "h") }

func rec(i int) *Record {
	return &Record{
		Summary: Summary{
			RemoteAddr: "127.0.0.1:5555", Path: "/h/x", Verdict: "ok", HTTPStatus: 200,
			ResponseID: fmt.Sprintf("resp_%d", i), ResponseStatus: "completed", Object: "response",
			Model: "m", Attempt: 1, Excerpt: "4", DedupeKey: fmt.Sprintf("resp_%d\x00completed\x00h", i),
		},
		Headers: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer •••"},
		Body:    []byte(fmt.Sprintf(`{"id":"resp_%d","n":%d}`, i, i)),
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "seg-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func ids(sums []Summary) []string {
	var out []string
	for _, s := range sums {
		out = append(out, s.ID)
	}
	return out
}

func TestSaveGetListReopen(t *testing.T) {
	dir := tempDir(t)
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, _ := open(t, dir, Options{Now: func() time.Time { return clock }})
	var saved []*Record
	for i := range 5 {
		r := rec(i)
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		if r.ID == "" || !r.ReceivedAt.Equal(clock) || r.Bytes != int64(len(r.Body)) {
			t.Fatalf("Save did not fill ID/ReceivedAt/Bytes: %+v", r.Summary)
		}
		saved = append(saved, r)
	}
	// IDs are unique and increase even though the clock stands still.
	for i := 1; i < len(saved); i++ {
		if saved[i].ID <= saved[i-1].ID {
			t.Fatalf("IDs not increasing: %s then %s", saved[i-1].ID, saved[i].ID)
		}
	}
	check := func(s *Store) {
		t.Helper()
		list, err := s.List(3)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{saved[4].ID, saved[3].ID, saved[2].ID}; !reflect.DeepEqual(ids(list), want) {
			t.Fatalf("List(3) = %v, want %v", ids(list), want)
		}
		if all, _ := s.List(0); len(all) != 5 {
			t.Fatalf("List(0) has %d records", len(all))
		}
		for _, want := range saved {
			got, err := s.Get(want.ID)
			if err != nil {
				t.Fatal(err)
			}
			got.ReceivedAt = got.ReceivedAt.UTC()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Get(%s):\n got %+v\nwant %+v", want.ID, got, want)
			}
		}
		last, err := s.Last()
		if err != nil || last.ID != saved[4].ID {
			t.Fatalf("Last = %v, %v", last, err)
		}
		if _, err := s.Get("d_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get unknown: %v", err)
		}
	}
	check(s)
	s.Close()
	if err := s.Save(rec(9)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Save after Close: %v", err)
	}
	s2, w := open(t, dir, Options{})
	check(s2)
	if len(w.all()) != 0 {
		t.Fatalf("warnings on a clean history: %v", w.all())
	}
}

func TestEmptyHistory(t *testing.T) {
	s, _ := open(t, filepath.Join(tempDir(t), "a", "b"), Options{})
	if _, err := s.Last(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Last on empty: %v", err)
	}
	if l, err := s.List(10); err != nil || len(l) != 0 {
		t.Fatalf("List on empty: %v %v", l, err)
	}
	if files := segFiles(t, s.Dir()); len(files) != 0 {
		t.Fatalf("reading created files: %v", files)
	}
}

func TestConcurrentSaves(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := s.Save(rec(i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.Close()
	s2, w := open(t, dir, Options{})
	list, _ := s2.List(0)
	if len(list) != n {
		t.Fatalf("reopened history has %d records, want %d", len(list), n)
	}
	seen := map[string]bool{}
	for _, sum := range list {
		r, err := s2.Get(sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"id":%q,"n":`, r.ResponseID); !bytes.HasPrefix(r.Body, []byte(want)) {
			t.Fatalf("record %s body %s does not match its header", r.ID, r.Body)
		}
		seen[r.ResponseID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
	if len(w.all()) != 0 {
		t.Fatalf("warnings: %v", w.all())
	}
}

func TestTornLastRecord(t *testing.T) {
	for _, cut := range []int{1, 5, 40, 100} { // in the trailer, body, header JSON, frame line
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := tempDir(t)
			s, _ := open(t, dir, Options{})
			for i := range 3 {
				if err := s.Save(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			files := segFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("files: %v", files)
			}
			data, _ := os.ReadFile(files[0])
			last := bytes.LastIndex(data, []byte("\n"+magic)) + 1
			if cut > len(data)-last {
				t.Fatalf("cut %d longer than the last frame", cut)
			}
			if err := os.Truncate(files[0], int64(len(data)-cut)); err != nil {
				t.Fatal(err)
			}
			s2, w := open(t, dir, Options{})
			if list, _ := s2.List(0); len(list) != 2 {
				t.Fatalf("%d records after a torn write, want 2", len(list))
			}
			// A torn tail was never acknowledged: skipped without a warning.
			if msgs := w.all(); len(msgs) != 0 {
				t.Fatalf("warnings %q, want none for a torn tail", msgs)
			}
			// The next writer starts a segment of its own; the torn file
			// is left as it is.
			if err := s2.Save(rec(7)); err != nil {
				t.Fatal(err)
			}
			s2.Close()
			s3, w3 := open(t, dir, Options{})
			if list, _ := s3.List(0); len(list) != 3 || list[0].ResponseID != "resp_7" {
				t.Fatalf("after the torn write: %+v", list)
			}
			if len(w3.all()) != 0 || len(segFiles(t, dir)) != 2 {
				t.Fatalf("warnings %v, files %v", w3.all(), segFiles(t, dir))
			}
		})
	}
}

func TestDamageInTheMiddle(t *testing.T) {
	setup := func(t *testing.T) (string, []byte, []int) {
		dir := tempDir(t)
		s, _ := open(t, dir, Options{})
		for i := range 4 {
			if err := s.Save(rec(i)); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		data, _ := os.ReadFile(segFiles(t, dir)[0])
		var starts []int
		for off := 0; ; {
			k := bytes.Index(data[off:], []byte(magic))
			if k < 0 {
				break
			}
			starts = append(starts, off+k)
			off += k + 1
		}
		return dir, data, starts
	}
	tests := []struct {
		name   string
		damage func(data []byte, starts []int) []byte
		want   []string // response ids still visible, newest first
	}{
		{"garbage between frames", func(d []byte, st []int) []byte {
			return slices.Concat(d[:st[2]], []byte("\x00garbage\nSAIL1 9 9 zz\n{}"), d[st[2]:])
		}, []string{"resp_3", "resp_2", "resp_1", "resp_0"}},
		{"flipped byte in a header", func(d []byte, st []int) []byte {
			d = slices.Clone(d)
			i := bytes.Index(d[st[1]:], []byte("resp_1")) + st[1]
			d[i] = 'R'
			return d
		}, []string{"resp_3", "resp_2", "resp_0"}},
		{"flipped byte in a body", func(d []byte, st []int) []byte {
			d = slices.Clone(d)
			i := bytes.LastIndex(d[:st[2]], []byte(`"n":1`))
			d[i+4] = '7'
			return d
		}, []string{"resp_3", "resp_2", "resp_0"}},
		{"lengths overwritten", func(d []byte, st []int) []byte {
			d = slices.Clone(d)
			copy(d[st[1]+len(magic):], "999999")
			return d
		}, []string{"resp_3", "resp_2", "resp_0"}},
		{"frame line removed", func(d []byte, st []int) []byte {
			nl := bytes.IndexByte(d[st[0]:], '\n') + st[0]
			return slices.Concat(d[:st[0]], d[nl+1:])
		}, []string{"resp_3", "resp_2", "resp_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, data, starts := setup(t)
			if err := os.WriteFile(segFiles(t, dir)[0], tt.damage(data, starts), 0o600); err != nil {
				t.Fatal(err)
			}
			s, w := open(t, dir, Options{})
			list, _ := s.List(0)
			var got []string
			for _, l := range list {
				got = append(got, l.ResponseID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("visible %v, want %v", got, tt.want)
			}
			if msgs := w.all(); len(msgs) == 0 || !strings.Contains(strings.Join(msgs, "\n"), "damaged") {
				t.Fatalf("warnings %q, want one about damage", msgs)
			}
			for _, sum := range list {
				if _, err := s.Get(sum.ID); err != nil {
					t.Fatalf("Get(%s): %v", sum.ID, err)
				}
			}
			// A damaged segment is never appended to.
			if err := s.Save(rec(9)); err != nil {
				t.Fatal(err)
			}
			if n := len(segFiles(t, dir)); n != 2 {
				t.Fatalf("%d segment files, want a fresh one next to the damaged one", n)
			}
		})
	}
}

func TestLargeBodyCheckedAtGet(t *testing.T) {
	dir := tempDir(t)
	s, w := open(t, dir, Options{})
	r := rec(1)
	r.Body = bytes.Repeat([]byte("x"), verifyAtOpen+10)
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f := segFiles(t, dir)[0]
	data, _ := os.ReadFile(f)
	data[len(data)-100] = 'y'
	os.WriteFile(f, data, 0o600)
	s2, _ := open(t, dir, Options{})
	if _, err := s2.Get(r.ID); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Get of a damaged large body: %v", err)
	}
	if len(w.all()) != 0 {
		t.Fatal(w.all())
	}
}

func TestPruneKeepsNewest(t *testing.T) {
	dir := tempDir(t)
	opts := Options{Keep: 10, segmentRecords: 4}
	s, _ := open(t, dir, opts)
	var all []string
	for i := range 50 {
		r := rec(i)
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		all = append(all, r.ID)
		if n := len(segFiles(t, dir)); n > 10/4+2 {
			t.Fatalf("after %d saves: %d segment files", i+1, n)
		}
	}
	slices.Reverse(all)
	want := all[:10]
	list, _ := s.List(0)
	if !reflect.DeepEqual(ids(list), want) {
		t.Fatalf("visible %v, want %v", ids(list), want)
	}
	if s.HasDedupeKey(rec(0).DedupeKey) || !s.HasDedupeKey(rec(49).DedupeKey) {
		t.Fatal("dedupe keys do not follow pruning")
	}
	if _, err := s.Get(all[10]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pruned record still readable: %v", err)
	}
	s.Close()
	s2, _ := open(t, dir, opts)
	list, _ = s2.List(0)
	if !reflect.DeepEqual(ids(list), want) {
		t.Fatalf("after reopen visible %v, want %v", ids(list), want)
	}
	// A smaller Keep takes effect at the next write.
	s2.Close()
	s3, _ := open(t, dir, Options{Keep: 2, segmentRecords: 4})
	if list, _ := s3.List(0); len(list) != 2 {
		t.Fatalf("Keep 2: %d visible", len(list))
	}
	s3.Save(rec(99))
	if n := len(segFiles(t, dir)); n > 2 {
		t.Fatalf("Keep 2: %d segment files left", n)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "sail", "history")
	s, w := open(t, dir, Options{})
	if err := s.Save(rec(1)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v %v, want 0700", fi.Mode().Perm(), err)
	}
	for _, f := range segFiles(t, dir) {
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if len(w.all()) != 0 {
		t.Fatal(w.all())
	}
	// A directory someone else created with loose permissions is reported.
	loose := filepath.Join(t.TempDir(), "loose")
	os.Mkdir(loose, 0o755)
	os.Chmod(loose, 0o755)
	_, w2 := open(t, loose, Options{})
	if msgs := w2.all(); len(msgs) != 1 || !strings.Contains(msgs[0], "chmod 700") {
		t.Fatalf("warnings for a 0755 dir: %q", msgs)
	}
	// A file where the directory should be is an error.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(file, Options{}); err == nil {
		t.Fatal("Open on a file: want error")
	}
}

// TestNoSecretsInFiles stores a delivery the way the receiver does
// (redacted with the payload package) and greps every file for the secrets.
func TestNoSecretsInFiles(t *testing.T) {
	const token = "whtok_0123456789abcdefghijklmnop"
	const apiKey = "sk-sail-abcdefghijklmnop"
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	body := []byte(`{"id":"resp_1","metadata":{"webhook_token":"` + token + `"},"echo":"` + token + `"}`)
	h := http.Header{"Authorization": {"Bearer " + token}, "X-Api-Key": {apiKey}, "Content-Type": {"application/json"}}
	r := &Record{Summary: Summary{Verdict: "ok", HTTPStatus: 200}, Headers: secret.Headers(h), Body: payload.Redact(body, token)}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatal("nothing written")
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{token, apiKey} {
			if bytes.Contains(data, []byte(secret)) {
				t.Fatalf("%s contains a secret in clear", e.Name())
			}
		}
		if !bytes.Contains(data, []byte(secret.Mask)) {
			t.Fatalf("%s: expected masked values", e.Name())
		}
	}
}

func TestRestartSeesDedupeKeys(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	r := rec(1)
	if s.HasDedupeKey(r.DedupeKey) {
		t.Fatal("key before save")
	}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	if !s.HasDedupeKey(r.DedupeKey) {
		t.Fatal("key not seen after save")
	}
	s.Close()
	s2, _ := open(t, dir, Options{})
	if !s2.HasDedupeKey(r.DedupeKey) || s2.HasDedupeKey(rec(2).DedupeKey) {
		t.Fatal("restarted store does not know the saved key (or knows another)")
	}
}

// failingWriter fails every write while fail is set, after writing half.
type failingWriter struct {
	w    io.Writer
	fail *atomic.Bool
}

func (f failingWriter) Write(p []byte) (int, error) {
	if f.fail.Load() {
		n, _ := f.w.Write(p[:len(p)/2])
		return n, errors.New("disk on fire")
	}
	return f.w.Write(p)
}

func TestFailingWriter(t *testing.T) {
	for _, size := range []int{100, copyBody + 1} { // one write, three writes
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := tempDir(t)
			var fail atomic.Bool
			opts := Options{WrapWriter: func(w io.Writer) io.Writer { return failingWriter{w, &fail} }}
			s, _ := open(t, dir, opts)
			if err := s.Save(rec(1)); err != nil {
				t.Fatal(err)
			}
			fail.Store(true)
			bad := rec(2)
			bad.Body = bytes.Repeat([]byte("a"), size)
			err := s.Save(bad)
			if err == nil || !strings.Contains(err.Error(), "disk on fire") {
				t.Fatalf("Save with a failing writer: %v", err)
			}
			if s.HasDedupeKey(bad.DedupeKey) {
				t.Fatal("failed record counts for dedupe")
			}
			if list, _ := s.List(0); len(list) != 1 {
				t.Fatalf("failed record visible: %d", len(list))
			}
			fail.Store(false)
			if err := s.Save(rec(3)); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s2, w := open(t, dir, Options{})
			list, _ := s2.List(0)
			if len(list) != 2 || list[0].ResponseID != "resp_3" || len(w.all()) != 0 {
				t.Fatalf("after a failed write: %+v, warnings %v", list, w.all())
			}
		})
	}
}

func TestUnwritableDir(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	// Replace the directory with a file: creating a segment must fail (this
	// works even as root, unlike chmod).
	os.RemoveAll(dir)
	os.WriteFile(dir, nil, 0o600)
	if err := s.Save(rec(1)); err == nil || !strings.Contains(err.Error(), "--no-history") {
		t.Fatalf("Save into a missing dir: %v", err)
	}
}

func TestTwoWritersShareADirectory(t *testing.T) {
	dir := tempDir(t)
	a, _ := open(t, dir, Options{})
	b, _ := open(t, dir, Options{})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			st := a
			if i%2 == 1 {
				st = b
			}
			if err := st.Save(rec(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(segFiles(t, dir)); n != 2 {
		t.Fatalf("%d segment files, want one per writer", n)
	}
	// b finds a's records on demand.
	la, _ := a.List(1)
	if _, err := b.Get(la[0].ID); err != nil {
		t.Fatalf("second writer cannot read the first's record: %v", err)
	}
	a.Close()
	b.Close()
	c, w := open(t, dir, Options{})
	if list, _ := c.List(0); len(list) != 100 || len(w.all()) != 0 {
		t.Fatalf("%d records, warnings %v", len(list), w.all())
	}
}

func TestSaveLargeBodyDoesNotCopy(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	body := bytes.Repeat([]byte(`{"a":"0123456789"},`), (30<<20)/19)
	r := rec(1)
	r.Body = body
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("saving a %d-byte body allocated %d bytes", len(body), alloc)
	}
	got, err := s.Get(r.ID)
	if err != nil || !bytes.Equal(got.Body, body) {
		t.Fatalf("Get: %v", err)
	}
}

func BenchmarkSave(b *testing.B) {
	for _, size := range []int{2 << 10, 200 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			s, _ := open(b, b.TempDir(), Options{})
			r := rec(1)
			r.Body = bytes.Repeat([]byte("x"), size)
			b.SetBytes(int64(size))
			b.SetParallelism(25) // 50 goroutines on 2 CPUs, like a busy receiver
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rc := *r
					rc.ID = ""
					if err := s.Save(&rc); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
