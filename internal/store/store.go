// Package store keeps the history of webhook deliveries on disk for `sail
// history`, `sail replay` and duplicate detection across restarts.
//
// Segment files, seg-*.log for accepted deliveries and rej-*.log for
// rejected ones, hold one frame per record: "SAIL1 <header len> <body len>
// <body crc> <header crc>\n<header JSON>\n<body>\n" (docs/history-format.md).
// A frame cut off at the end of a file (a crash, or a write in progress)
// was never acknowledged and is skipped silently; a damaged one (CRC-32C)
// is skipped with a warning. Files of the earlier format (seg-*.log with
// both kinds) are the same frames and are read as they are.
//
// The guarantees, and the least machinery found to keep them:
//
//   - Persist before ack: Save returns after write(2) (bodies over 64 KiB
//     are written from the caller's buffer, never copied), so a record
//     survives a crash of the process. Then it checks that the segment is
//     still the file at its path (device and inode): if the directory was
//     deleted, replaced or moved, it reopens the directory as it is now and
//     writes again, or fails (the receiver answers 500).
//   - No group commit: Saves take turns on a mutex. Sharing one write among
//     waiting Saves batched only 1.54–1.57 records per write at concurrency
//     50 (2 KB deliveries over loopback HTTP, 2 CPUs; BenchmarkThroughput in
//     internal/webhook): the HTTP work between two deliveries dwarfs a
//     write, so they rarely meet. It was not worth its ~150 lines.
//   - Several processes: each appends only to segments it created and
//     holds an exclusive flock on, and deletes only segments nobody holds.
//   - Hostile files: segments are opened with O_NOFOLLOW; a symlink, a
//     non-regular file or another user's file is skipped with a warning and
//     never read, written, chmod'ed or deleted.
//   - Retention: Keep accepted records (default 1000) and KeepRejected
//     rejected ones (default 100) are counted apart and kept in their own
//     files: strangers can neither push out an accepted delivery nor keep
//     more than three 8 MiB segments of rejected records on disk.
package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	DefaultKeep         = 1000
	DefaultKeepRejected = 100

	defaultSegmentRecords = 1024
	defaultSegmentBytes   = 8 << 20
	copyBody              = 64 << 10 // larger bodies are written, not copied, after the header
	verifyAtOpen          = 1 << 20  // larger bodies have their CRC checked by Get only
	maxHeader             = 16 << 20 // a larger header is damage
	magic                 = "SAIL1 "

	kindAccepted, kindRejected = 0, 1 // each kind has its own files and limit
)

var (
	prefixes   = [2]string{"seg-", "rej-"}
	frameBufs  = sync.Pool{New: func() any { return new(bytes.Buffer) }} // a frame per Save was the largest allocation after the body
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	errTorn    = errors.New("incomplete record")

	ErrNotFound = errors.New("no such delivery in the history") // from Get and Last
	ErrClosed   = errors.New("history is closed")               // from Save after Close
)

// Options tune a Store. The zero value is usable.
type Options struct {
	Keep         int                       // accepted records kept; default DefaultKeep
	KeepRejected int                       // rejected records kept; default DefaultKeepRejected
	Now          func() time.Time          // stamps records and IDs; default time.Now
	Warn         func(string)              // notes on skipped damage, foreign files, loose permissions
	WrapWriter   func(io.Writer) io.Writer // wraps segment files: tests inject failures, count writes

	segmentRecords int // tests shrink segments to exercise pruning
}

// Summary is what List returns for each record: everything but the
// headers and body.
type Summary struct {
	ID             string    `json:"id"`
	ReceivedAt     time.Time `json:"received_at"`
	RemoteAddr     string    `json:"remote_addr,omitempty"`
	Path           string    `json:"path,omitempty"`
	Verdict        string    `json:"verdict"`     // event.Verdict*
	HTTPStatus     int       `json:"http_status"` // what the receiver answered
	Rejected       bool      `json:"rejected,omitempty"`
	Duplicate      bool      `json:"duplicate,omitempty"`
	DedupeKey      string    `json:"dedupe_key,omitempty"` // set on acknowledged deliveries
	ResponseID     string    `json:"response_id,omitempty"`
	ResponseStatus string    `json:"response_status,omitempty"`
	Object         string    `json:"object,omitempty"`
	Model          string    `json:"model,omitempty"`
	Bytes          int64     `json:"bytes"` // size of the body as delivered
	Attempt        int       `json:"attempt,omitempty"`
	Excerpt        string    `json:"excerpt,omitempty"`
	Error          string    `json:"error,omitempty"`
	Truncated      bool      `json:"truncated,omitempty"` // Body is only a prefix of what was delivered
}

// Record is one stored delivery. Headers and Body must already be redacted:
// the store writes them as given. Rejected marks a delivery the receiver
// refused (bad token, not JSON, too large, over the in-flight budget).
type Record struct {
	Summary
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"-"` // raw JSON, or a prefix of a rejected body
}

// Store is an open history directory. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options

	idMu     sync.Mutex
	lastNano int64

	mu      sync.Mutex
	closed  bool
	rings   [2]ring
	entries [2][]*entry // visible records of each kind, sorted by ID
	segs    map[string]*segment
	keys    map[string]int // dedupe key → visible records carrying it
}

// ring is where this process appends one kind of record.
type ring struct {
	kind   int
	active *segment
	file   *os.File // active's file, holding its lock
	fi     os.FileInfo
	path   string // active's path, checked with lstat after each write
	w      io.Writer
}

type segment struct {
	name    string
	size    int64 // bytes written by this process
	records int   // frames written by this process
	live    int   // visible entries pointing here
}

type entry struct {
	sum                     Summary
	seg                     *segment
	hdrOff, hdrLen, bodyLen int64
	bodyCRC                 uint32
}

// Open opens (creating it with mode 0700 if needed) the history in dir and
// reads the headers of the records in it.
func Open(dir string, opts Options) (*Store, error) {
	opts.Keep = cmp.Or(max(opts.Keep, 0), DefaultKeep)
	opts.KeepRejected = cmp.Or(max(opts.KeepRejected, 0), DefaultKeepRejected)
	opts.segmentRecords = cmp.Or(max(opts.segmentRecords, 0), defaultSegmentRecords)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if err := ensureDir(dir, opts.Warn); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, rings: [2]ring{{kind: kindAccepted}, {kind: kindRejected}}}
	return s, s.load()
}

func ensureDir(dir string, warn func(string)) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create history directory: %w (pass --no-history to run without one)", err)
		}
		return os.Chmod(dir, 0o700) // MkdirAll applied the umask
	case err != nil:
		return fmt.Errorf("open history directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("history path %s is not a directory: remove it or choose another one", dir)
	case fi.Mode().Perm()&0o077 != 0:
		warn(fmt.Sprintf("history directory %s is accessible by other users (mode %#o); run: chmod 700 %s", dir, fi.Mode().Perm(), dir))
	}
	return nil
}

func (s *Store) Dir() string { return s.dir } // the history directory

// kindOf tells which ring a record belongs to. Records written before the
// Rejected field existed are rejected when their token was missing or
// wrong or their body too large.
func kindOf(sum *Summary) int {
	if sum.Rejected || sum.Verdict == "missing" || sum.Verdict == "mismatch" || sum.HTTPStatus == 413 {
		return kindRejected
	}
	return kindAccepted
}

// load reads every segment and rebuilds the index. Called with s.mu held
// (or before s is shared).
func (s *Store) load() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list history: %w", err)
	}
	s.segs, s.keys = map[string]*segment{}, map[string]int{}
	var entries []*entry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ".log") || !strings.HasPrefix(name, prefixes[0]) && !strings.HasPrefix(name, prefixes[1]) {
			continue
		}
		if !de.Type().IsRegular() {
			s.opts.Warn(fmt.Sprintf("%s: not a regular file (a symlink?): skipped and left untouched", name))
			continue
		}
		f, _, err := s.openOurs(name, os.O_RDONLY)
		if err != nil {
			continue // pruned by another process meanwhile, or not ours (warned)
		}
		data, err := io.ReadAll(f) // 8 MiB at most, unless one body is larger
		f.Close()
		if err != nil {
			s.opts.Warn(fmt.Sprintf("%s: %v", name, err))
			continue
		}
		seg := &segment{name: name}
		for _, r := range s.rings {
			if r.active != nil && r.active.name == name {
				seg = r.active // keep counting what this process writes
			}
		}
		seg.live = 0
		s.segs[name] = seg
		entries = append(entries, s.scan(seg, data)...)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].sum.ID < entries[j].sum.ID })
	s.entries = [2][]*entry{}
	for _, e := range entries {
		s.add(e)
	}
	s.trim()
	return nil
}

// add makes e visible, keeping its kind's entries sorted by ID.
func (s *Store) add(e *entry) {
	k := kindOf(&e.sum)
	e.sum.Rejected = k == kindRejected
	es := s.entries[k]
	i, found := sort.Find(len(es), func(i int) int { return strings.Compare(e.sum.ID, es[i].sum.ID) })
	if found {
		return // the same record in two files (a copied segment): show it once
	}
	s.entries[k] = slices.Insert(es, i, e)
	e.seg.live++
	if e.sum.DedupeKey != "" {
		s.keys[e.sum.DedupeKey]++
	}
}

// trim drops the oldest visible records of each kind beyond its limit
// (amortised O(1) per Save) and reports whether it dropped any.
func (s *Store) trim() bool {
	trimmed := false
	for k, keep := range [2]int{s.opts.Keep, s.opts.KeepRejected} {
		excess := max(0, len(s.entries[k])-keep)
		for _, e := range s.entries[k][:excess] {
			if d := e.sum.DedupeKey; d != "" {
				if s.keys[d]--; s.keys[d] <= 0 {
					delete(s.keys, d)
				}
			}
			e.seg.live--
		}
		clear(s.entries[k][:excess])
		s.entries[k], trimmed = s.entries[k][excess:], trimmed || excess > 0
	}
	return trimmed
}

// prune deletes segments without visible records that nobody writes to.
// Called from Save only, so that reading the history never deletes.
func (s *Store) prune() {
	for name, seg := range s.segs {
		if seg.live > 0 || s.rings[0].active == seg || s.rings[1].active == seg {
			continue
		}
		f, _, err := s.openOurs(name, os.O_RDWR)
		if err != nil {
			delete(s.segs, name)
			continue
		}
		if ok, _ := tryLock(f); ok && os.Remove(filepath.Join(s.dir, name)) == nil {
			delete(s.segs, name)
		} // else another process still appends to it
		f.Close()
	}
}

// openOurs opens a segment without following a symlink and checks that it
// is a regular file of this user; anything else is skipped with a warning.
func (s *Store) openOurs(name string, flag int) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, name), flag|noFollow, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	var fi os.FileInfo
	if err == nil {
		if fi, err = f.Stat(); err == nil && (!fi.Mode().IsRegular() || !owned(fi)) {
			err = errors.New("not a regular file owned by you")
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.opts.Warn(fmt.Sprintf("%s: skipped and left untouched: %v", name, err))
		return nil, nil, err
	}
	return f, fi, nil
}

// scan returns the records in data, a segment file's content.
func (s *Store) scan(seg *segment, data []byte) []*entry {
	var entries []*entry
	off := 0
	for off < len(data) {
		e, next, err := readFrame(data, off)
		if err == nil {
			e.seg = seg
			entries = append(entries, e)
			off = next
			continue
		}
		resume := len(data)
		if k := bytes.Index(data[off+1:], []byte(magic)); k >= 0 {
			resume = off + 1 + k
		}
		if errors.Is(err, errTorn) && resume == len(data) {
			break // a torn tail: never acknowledged, nothing to warn about
		}
		s.opts.Warn(fmt.Sprintf("%s: skipped %d damaged bytes at offset %d (%v)", seg.name, resume-off, off, err))
		off = resume
	}
	return entries
}

// readFrame parses the frame at data[off:]. It returns errTorn when the
// data ends before the frame does, and another error when the frame is
// damaged. A false "SAIL1 " inside a body fails its checksum.
func readFrame(data []byte, off int) (*entry, int, error) {
	line := data[off:min(len(data), off+96)]
	nl := bytes.IndexByte(line, '\n')
	if nl < 0 && off+len(line) == len(data) {
		return nil, 0, errTorn
	} else if nl < 0 {
		return nil, 0, errors.New("no frame header")
	}
	var hdrLen, bodyLen int
	var bodyCRC, hdrCRC uint32
	if n, _ := fmt.Sscanf(string(line[:nl]), "SAIL1 %d %d %08x %08x", &hdrLen, &bodyLen, &bodyCRC, &hdrCRC); n != 4 ||
		hdrLen < 2 || hdrLen > maxHeader || bodyLen < 0 || nl < 9 || line[nl-9] != ' ' {
		return nil, 0, errors.New("malformed frame header")
	}
	h := off + nl + 1
	end := h + hdrLen + 1 + bodyLen + 1
	if end > len(data) || end < h {
		return nil, 0, errTorn
	}
	hdr, body := data[h:h+hdrLen], data[h+hdrLen+1:end-1]
	switch {
	case crc32.Update(crc32.Checksum(line[:nl-8], castagnoli), castagnoli, hdr) != hdrCRC:
		return nil, 0, errors.New("header checksum mismatch")
	case data[h+hdrLen] != '\n' || data[end-1] != '\n':
		return nil, 0, errors.New("record not terminated")
	case bodyLen <= verifyAtOpen && crc32.Checksum(body, castagnoli) != bodyCRC:
		return nil, 0, errors.New("body checksum mismatch")
	}
	e := &entry{hdrOff: int64(h), hdrLen: int64(hdrLen), bodyLen: int64(bodyLen), bodyCRC: bodyCRC}
	if err := json.Unmarshal(hdr, &e.sum); err != nil || e.sum.ID == "" {
		return nil, 0, fmt.Errorf("bad header: %v", err)
	}
	return e, end, nil
}

// NewID returns a unique ID that sorts by time: d_<13 base32 digits of
// Unix nanoseconds><4 random base32 digits>. Within a process IDs strictly
// increase even if the clock stands still or steps back. A receiver that
// must name a delivery (to the app it forwards to) before storing it sets
// Record.ID to one.
func (s *Store) NewID() string {
	now := s.opts.Now().UnixNano()
	s.idMu.Lock()
	now = max(now, s.lastNano+1)
	s.lastNano = now
	s.idMu.Unlock()
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford, in ASCII order
	b := []byte("d_00000000000000000")
	u, r := uint64(now), rand.Uint32()
	for i := 14; i >= 2; i-- {
		b[i], u = alphabet[u&31], u>>5
	}
	for i := 15; i < len(b); i++ {
		b[i], r = alphabet[r&31], r>>5
	}
	return string(b)
}

// Save appends rec to the history, assigning rec.ID (and ReceivedAt if
// zero), and returns once it is written where the history directory is
// now (see the package doc); on an error nothing is visible.
func (s *Store) Save(rec *Record) error {
	if rec.ReceivedAt.IsZero() {
		rec.ReceivedAt = s.opts.Now()
	}
	if rec.ID == "" {
		rec.ID = s.NewID()
	}
	if rec.Bytes == 0 {
		rec.Bytes = int64(len(rec.Body))
	}
	e := &entry{sum: rec.Summary, bodyLen: int64(len(rec.Body)), bodyCRC: crc32.Checksum(rec.Body, castagnoli)}
	hdr, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("save delivery to history: %w", err)
	}
	e.hdrLen = int64(len(hdr))
	fb := frameBufs.Get().(*bytes.Buffer)
	defer frameBufs.Put(fb)
	fb.Reset()
	line := fmt.Appendf(fb.AvailableBuffer(), "%s%d %d %08x ", magic, len(hdr), len(rec.Body), e.bodyCRC)
	line = fmt.Appendf(line, "%08x\n", crc32.Update(crc32.Checksum(line, castagnoli), castagnoli, hdr))
	fb.Write(line)
	fb.Write(hdr)
	fb.WriteByte('\n')
	parts := [][]byte{fb.Bytes(), rec.Body, {'\n'}}
	if len(rec.Body) <= copyBody {
		fb.Write(rec.Body)
		fb.WriteByte('\n')
		parts = [][]byte{fb.Bytes()} // one write(2)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r := &s.rings[kindOf(&rec.Summary)]
	for range 2 {
		off, err := s.write(r, parts, int64(len(line))+e.hdrLen+1+e.bodyLen+1)
		if err != nil {
			return fmt.Errorf("save delivery to history %s: %w (check free space and permissions, or run with --no-history)", s.dir, err)
		}
		if fi, err := os.Lstat(r.path); err == nil && os.SameFile(fi, r.fi) {
			e.seg, e.hdrOff = r.active, off+int64(len(line))
			s.add(e)
			if s.trim() {
				s.prune()
			}
			return nil
		}
		// The segment is no longer at its path: the directory was deleted,
		// replaced or moved. Start over with the directory as it is now.
		s.opts.Warn(fmt.Sprintf("the history directory %s changed while in use (deleted, replaced or moved): reopening it", s.dir))
		s.closeRing(&s.rings[0])
		s.closeRing(&s.rings[1])
		if err := cmp.Or(ensureDir(s.dir, s.opts.Warn), s.load()); err != nil {
			return fmt.Errorf("save delivery to history: %w", err)
		}
	}
	return fmt.Errorf("save delivery to history %s: the directory keeps changing", s.dir)
}

// write appends parts, n bytes, to r's active segment as one frame and
// returns the offset it starts at. Called with s.mu held.
func (s *Store) write(r *ring, parts [][]byte, n int64) (int64, error) {
	if err := s.ensureSegment(r, n); err != nil {
		return 0, err
	}
	off := r.active.size
	for _, p := range parts {
		if _, err := r.w.Write(p); err != nil {
			// Remove the partial frame; if that fails, abandon the segment
			// so the next Save starts a clean one.
			if r.file.Truncate(off) != nil {
				s.closeRing(r)
			}
			return 0, err
		}
	}
	r.active.size += n
	r.active.records++
	return off, nil
}

// closeRing closes r's segment file, releasing its lock.
func (s *Store) closeRing(r *ring) (err error) {
	if r.file != nil {
		err = r.file.Close()
	}
	r.active, r.file, r.fi, r.w = nil, nil, nil, nil
	return err
}

// ensureSegment makes sure r has an active segment of this process's own
// with room for a frame of n bytes, rolling over a full one.
func (s *Store) ensureSegment(r *ring, n int64) error {
	if a := r.active; a != nil && (a.records >= s.opts.segmentRecords || a.size > 0 && a.size+n > defaultSegmentBytes) {
		s.closeRing(r)
	}
	if r.active != nil {
		return nil
	}
	name := prefixes[r.kind] + strings.TrimPrefix(s.NewID(), "d_") + ".log"
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND|noFollow, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = tryLock(f)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("lock history segment: %w", err)
	}
	r.active, r.file, r.fi, r.path, r.w = &segment{name: name}, f, fi, filepath.Join(s.dir, name), f
	s.segs[name] = r.active
	if s.opts.WrapWriter != nil {
		r.w = s.opts.WrapWriter(f)
	}
	return nil
}

// List returns up to n summaries of both kinds, newest first (all when
// n ≤ 0), without reading any body.
func (s *Store) List(n int) ([]Summary, error) {
	s.mu.Lock()
	out := make([]Summary, 0, len(s.entries[0])+len(s.entries[1]))
	for _, es := range s.entries {
		for _, e := range es {
			out = append(out, e.sum)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(b.ID, a.ID) })
	if n > 0 && n < len(out) {
		out = out[:n]
	}
	return out, nil
}

// HasDedupeKey reports whether a visible record carries key, including
// records written by earlier processes.
func (s *Store) HasDedupeKey(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[key] > 0
}

// Get reads the record with the given ID, headers and body included. A
// record another process saved after Open is found too (Get then re-reads
// the directory). It returns an error wrapping ErrNotFound if there is none.
func (s *Store) Get(id string) (*Record, error) {
	s.mu.Lock()
	for try := 0; ; try++ {
		for _, es := range s.entries {
			if i, ok := sort.Find(len(es), func(i int) int { return strings.Compare(id, es[i].sum.ID) }); ok {
				e := es[i]
				s.mu.Unlock()
				return s.read(e) // outside the lock: a big body must not hold up Save
			}
		}
		if err := s.load(); try > 0 || err != nil {
			s.mu.Unlock()
			return nil, cmp.Or(err, fmt.Errorf("delivery %q: %w (list them with `sail history`)", id, ErrNotFound))
		}
	}
}

// Last returns the newest accepted record: never one the receiver
// rejected, however many strangers posted since.
func (s *Store) Last() (*Record, error) {
	s.mu.Lock()
	var e *entry
	if es := s.entries[kindAccepted]; len(es) > 0 {
		e = es[len(es)-1]
	}
	s.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("no accepted delivery in the history: %w", ErrNotFound)
	}
	return s.read(e)
}

// read reads e's header and body.
func (s *Store) read(e *entry) (*Record, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, e.seg.name), os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("read delivery %s: %w", e.sum.ID, err)
	}
	defer f.Close()
	buf := make([]byte, e.hdrLen+1+e.bodyLen)
	if _, err := f.ReadAt(buf, e.hdrOff); err != nil {
		return nil, fmt.Errorf("read delivery %s: %w", e.sum.ID, err)
	}
	rec := &Record{}
	if err := json.Unmarshal(buf[:e.hdrLen], rec); err != nil {
		return nil, fmt.Errorf("read delivery %s: damaged header: %w", e.sum.ID, err)
	}
	rec.Body, rec.Rejected = buf[e.hdrLen+1:], e.sum.Rejected
	if crc32.Checksum(rec.Body, castagnoli) != e.bodyCRC {
		return nil, fmt.Errorf("read delivery %s: the stored body is damaged (checksum mismatch)", e.sum.ID)
	}
	return rec, nil
}

// Close releases the segments this process appends to. Reads keep
// working; Save returns ErrClosed. Closing a nil Store (no history) does
// nothing, so callers can defer Close unconditionally.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return errors.Join(s.closeRing(&s.rings[0]), s.closeRing(&s.rings[1]))
}
