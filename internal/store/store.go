// Package store keeps the history of webhook deliveries on disk, so that
// `sail history` can list them, `sail replay` can re-send them and a
// restarted receiver still recognises duplicates.
//
// # Format
//
// Records are appended to segment files (seg-*.log, about 1024 records or
// 8 MiB each, pruned whole) in a directory only the user can read. Each
// record is one frame:
//
//	SAIL1 <header length> <body length> <body crc> <header crc>\n
//	<header: one line of JSON, the record without its body>\n
//	<body: raw bytes, exactly as given>\n
//
// CRCs are CRC-32C in hex. The header CRC covers the first four fields of
// the line and the header JSON, so a torn or garbled frame is detected and
// skipped (with a warning) and the scan resumes at the next frame. The body
// is written from the caller's buffer, never re-encoded: a 30 MiB payload
// costs no second 30 MiB.
//
// # Durability
//
// Save returns once write(2) has completed: the record survives a crash of
// this process. Options.Sync adds an fsync per record, which also survives a
// power cut or kernel crash but costs milliseconds per delivery on most
// disks, so it is off by default.
//
// # Several processes
//
// Every process appends to a segment it holds an exclusive advisory lock on
// (flock, where the platform has it); it never writes to, truncates or
// deletes a segment another live process holds. Readers take no lock.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultKeep = 1000

	defaultSegmentRecords = 1024
	defaultSegmentBytes   = 8 << 20

	// smallFrame is the largest frame that is copied into a batch and
	// group-committed; larger bodies are written from the caller's buffer
	// (with writev(2) where there is one), since copying them would cost
	// more than the system call it saves.
	smallFrame = 16 << 10
	// verifyAtOpen is the largest body whose CRC is checked when the
	// history is opened; larger bodies are checked by Get.
	verifyAtOpen = 1 << 20
	// maxHeader bounds a frame header, which holds the summary and the
	// (redacted) request headers; anything larger is damage.
	maxHeader = 16 << 20

	magic   = "SAIL1 "
	segGlob = "seg-*.log"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrNotFound is returned by Get and Last when there is no such record.
var ErrNotFound = errors.New("no such delivery in the history")

// ErrClosed is returned by Save after Close.
var ErrClosed = errors.New("history is closed")

// Options tune a Store. The zero value is usable.
type Options struct {
	// Keep is how many of the newest records stay visible; older ones are
	// dropped and their segment files deleted once every record in them is
	// dropped. Default DefaultKeep.
	Keep int
	// Now stamps records and IDs. Default time.Now.
	Now func() time.Time
	// Warn receives human-readable notes about damaged records that were
	// skipped or loose permissions. Default: discard.
	Warn func(string)
	// Sync fsyncs every record before Save returns (see the package doc).
	Sync bool
	// WrapWriter, if set, wraps the segment file for every write. Tests use
	// it to inject a failing or short writer.
	WrapWriter func(io.Writer) io.Writer

	segmentRecords int   // tests shrink segments to exercise pruning
	segmentBytes   int64 //
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
	Duplicate      bool      `json:"duplicate,omitempty"`
	DedupeKey      string    `json:"dedupe_key,omitempty"` // set on accepted deliveries
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

// Record is one stored delivery. Headers and Body must already be redacted
// by the caller: the store writes them as given.
type Record struct {
	Summary
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"-"` // raw JSON, or a prefix of a rejected non-JSON body
}

// Store is an open history directory. It is safe for concurrent use.
type Store struct {
	dir  string
	opts Options

	idMu     sync.Mutex
	lastNano int64

	bufs    sync.Pool // *[]byte batch buffers
	scratch sync.Pool // *[]byte header scratch

	gmu     sync.Mutex // guards pending and writing
	pending *batch     // small frames waiting for the next write
	writing bool       // a leader is writing; new frames wait for their batch

	mu      sync.Mutex
	closed  bool
	entries []*entry // visible records, sorted by ID (oldest first)
	segs    map[string]*segment
	keys    map[string]int // dedupe key → visible records carrying it
	active  *segment       // the segment this process appends to
	file    *os.File       // active's file, holding its lock
	w       io.Writer      // file, possibly wrapped
	dead    []*segment     // segments with no visible record left, to delete
}

type segment struct {
	name    string
	size    int64 // bytes of whole frames (where the next one goes)
	records int   // frames in the file
	live    int   // visible entries pointing here
	torn    bool  // the file ends with an incomplete frame
	damaged bool  // garbage was skipped somewhere
	busy    bool  // another process held its lock while we scanned
	seen    int64 // file size when scanned
}

type entry struct {
	sum     Summary
	seg     *segment
	hdrOff  int64 // header JSON
	hdrLen  int64
	bodyLen int64
	bodyCRC uint32
}

// DefaultDir is $XDG_STATE_HOME/sail/history, or ~/.local/state/sail/history
// when XDG_STATE_HOME is unset or not absolute.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "sail", "history"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the history directory: %w (set XDG_STATE_HOME or HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "sail", "history"), nil
}

// Open opens (creating it with mode 0700 if needed) the history in dir and
// reads the headers of the records in it. Damaged records are skipped and
// reported through Options.Warn.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if opts.segmentRecords <= 0 {
		opts.segmentRecords = defaultSegmentRecords
	}
	if opts.segmentBytes <= 0 {
		opts.segmentBytes = defaultSegmentBytes
	}
	if err := ensureDir(dir, opts.Warn); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func ensureDir(dir string, warn func(string)) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create history directory: %w (pass --no-history to run without one)", err)
		}
		// MkdirAll applies the umask; make sure the directory is private.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict history directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("open history directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("history path %s is not a directory: remove it or choose another one", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		warn(fmt.Sprintf("history directory %s is accessible by other users (mode %#o); run: chmod 700 %s", dir, fi.Mode().Perm(), dir))
	}
	return nil
}

// Dir returns the history directory.
func (s *Store) Dir() string { return s.dir }

// load reads every segment and rebuilds the index. Called with s.mu held
// (or before s is shared).
func (s *Store) load() error {
	names, err := filepath.Glob(filepath.Join(s.dir, segGlob))
	if err != nil {
		return fmt.Errorf("list history: %w", err)
	}
	sort.Strings(names)
	segs := make(map[string]*segment, len(names))
	var entries []*entry
	for _, path := range names {
		name := filepath.Base(path)
		if s.active != nil && name == s.active.name {
			// Our own segment: we know exactly what is in it.
			seg := s.active
			seg.live = 0
			segs[name] = seg
			es, _, err := s.scan(path, seg)
			if err != nil {
				return err
			}
			entries = append(entries, es...)
			continue
		}
		seg := &segment{name: name}
		es, _, err := s.scan(path, seg)
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned by another process meanwhile
		}
		if err != nil {
			return err
		}
		segs[name] = seg
		entries = append(entries, es...)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].sum.ID < entries[j].sum.ID })
	s.segs, s.entries, s.keys, s.dead = segs, nil, make(map[string]int), nil
	for _, e := range entries {
		s.add(e)
	}
	s.trim()
	for _, seg := range segs {
		if seg.live == 0 && seg != s.active {
			s.dead = appendOnce(s.dead, seg)
		}
	}
	return nil
}

func appendOnce(list []*segment, seg *segment) []*segment {
	for _, x := range list {
		if x == seg {
			return list
		}
	}
	return append(list, seg)
}

// add makes e visible, keeping entries sorted by ID.
func (s *Store) add(e *entry) {
	n := len(s.entries)
	if n == 0 || s.entries[n-1].sum.ID < e.sum.ID {
		s.entries = append(s.entries, e)
	} else {
		i := sort.Search(n, func(i int) bool { return s.entries[i].sum.ID >= e.sum.ID })
		if i < n && s.entries[i].sum.ID == e.sum.ID {
			return // the same record in two files (a copied segment): show it once
		}
		s.entries = append(s.entries, nil)
		copy(s.entries[i+1:], s.entries[i:])
		s.entries[i] = e
	}
	e.seg.live++
	if e.sum.DedupeKey != "" {
		s.keys[e.sum.DedupeKey]++
	}
}

// trim drops the oldest visible records beyond Keep and queues segments
// left without visible records for deletion. Amortised O(1) per Save.
func (s *Store) trim() {
	excess := len(s.entries) - s.opts.Keep
	if excess <= 0 {
		return
	}
	for _, e := range s.entries[:excess] {
		if k := e.sum.DedupeKey; k != "" {
			if s.keys[k]--; s.keys[k] <= 0 {
				delete(s.keys, k)
			}
		}
		if e.seg.live--; e.seg.live == 0 {
			s.dead = appendOnce(s.dead, e.seg)
		}
	}
	clear(s.entries[:excess])
	s.entries = s.entries[excess:]
}

// prune deletes dead segments nobody else holds. Called from Save only, so
// that reading the history never deletes anything.
func (s *Store) prune() {
	keep := s.dead[:0]
	for _, seg := range s.dead {
		if seg == s.active || seg.live > 0 {
			if seg.live == 0 {
				keep = append(keep, seg)
			}
			continue
		}
		path := filepath.Join(s.dir, seg.name)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			delete(s.segs, seg.name)
			continue // already gone
		}
		if ok, _ := tryLock(f); !ok {
			f.Close()
			keep = append(keep, seg) // another process still appends to it
			continue
		}
		err = os.Remove(path)
		f.Close()
		if err != nil {
			keep = append(keep, seg)
			continue
		}
		delete(s.segs, seg.name)
	}
	s.dead = keep
}

// scan reads the frames of one segment file and returns its entries.
func (s *Store) scan(path string, seg *segment) ([]*entry, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read history: %w", err)
	}
	size := fi.Size()
	var r io.ReaderAt = f
	if size <= 2*defaultSegmentBytes {
		// Small segments are read at once: one syscall instead of three per record.
		buf := make([]byte, size)
		n, err := io.ReadFull(f, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("read history %s: %w", seg.name, err)
		}
		size = int64(n)
		r = bytes.NewReader(buf[:n])
	}
	if seg != s.active {
		if ok, _ := tryLockShared(f); !ok {
			seg.busy = true // another process is appending to it right now
		}
	}
	var entries []*entry
	off := int64(0)
	seg.records, seg.torn, seg.damaged = 0, false, false
	for off < size {
		e, next, err := readFrame(r, off, size)
		if err == nil {
			e.seg = seg
			entries = append(entries, e)
			seg.records++
			off = next
			continue
		}
		resume := findMagic(r, off+1, size)
		if errors.Is(err, errTorn) && resume >= size {
			// The file ends inside a frame: an interrupted write, or one in
			// progress in another process.
			seg.torn = true
			if !seg.busy && seg != s.active {
				s.opts.Warn(fmt.Sprintf("history %s: skipped an incomplete record at the end (%d bytes, from an interrupted write)", seg.name, size-off))
			}
			break
		}
		seg.damaged = true
		s.opts.Warn(fmt.Sprintf("history %s: skipped %d damaged bytes at offset %d (%v)", seg.name, resume-off, off, err))
		off = resume
	}
	seg.size, seg.seen = off, size
	return entries, size, nil
}

var errTorn = errors.New("incomplete record")

// readFrame parses the frame at off. It returns errTorn when the data ends
// before the frame does, and another error when the frame is damaged.
func readFrame(r io.ReaderAt, off, size int64) (*entry, int64, error) {
	var lineBuf [96]byte
	n, _ := r.ReadAt(lineBuf[:], off)
	line := lineBuf[:n]
	nl := bytes.IndexByte(line, '\n')
	if nl < 0 {
		if int64(n) == size-off && bytes.HasPrefix([]byte(magic), line[:min(len(line), len(magic))]) {
			return nil, 0, errTorn
		}
		return nil, 0, errors.New("no frame header")
	}
	hdrLen, bodyLen, bodyCRC, hdrCRC, err := parseLine(line[:nl])
	if err != nil {
		return nil, 0, err
	}
	hdrOff := off + int64(nl) + 1
	end := hdrOff + hdrLen + 1 + bodyLen + 1
	if hdrLen > maxHeader || bodyLen > 1<<40 {
		return nil, 0, errors.New("implausible lengths")
	}
	if end > size {
		return nil, 0, errTorn
	}
	hdr := make([]byte, hdrLen+1)
	if _, err := r.ReadAt(hdr, hdrOff); err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	if hdr[hdrLen] != '\n' {
		return nil, 0, errors.New("header not terminated")
	}
	hdr = hdr[:hdrLen]
	if crc := crc32.Update(crc32.Checksum(line[:bytes.LastIndexByte(line[:nl], ' ')+1], castagnoli), castagnoli, hdr); crc != hdrCRC {
		return nil, 0, errors.New("header checksum mismatch")
	}
	var trailer [1]byte
	if _, err := r.ReadAt(trailer[:], end-1); err != nil || trailer[0] != '\n' {
		return nil, 0, errors.New("record not terminated")
	}
	if bodyLen <= verifyAtOpen {
		body := make([]byte, bodyLen)
		if _, err := r.ReadAt(body, hdrOff+hdrLen+1); err != nil {
			return nil, 0, fmt.Errorf("read body: %w", err)
		}
		if crc32.Checksum(body, castagnoli) != bodyCRC {
			return nil, 0, errors.New("body checksum mismatch")
		}
	}
	e := &entry{hdrOff: hdrOff, hdrLen: hdrLen, bodyLen: bodyLen, bodyCRC: bodyCRC}
	if err := json.Unmarshal(hdr, &e.sum); err != nil || e.sum.ID == "" {
		return nil, 0, fmt.Errorf("bad header: %v", err)
	}
	return e, end, nil
}

// parseLine parses "SAIL1 <hdrLen> <bodyLen> <bodyCRC> <hdrCRC>".
func parseLine(line []byte) (hdrLen, bodyLen int64, bodyCRC, hdrCRC uint32, err error) {
	rest, ok := bytes.CutPrefix(line, []byte(magic))
	if !ok {
		return 0, 0, 0, 0, errors.New("no frame header")
	}
	f := strings.Split(string(rest), " ")
	if len(f) != 4 {
		return 0, 0, 0, 0, errors.New("malformed frame header")
	}
	h, err1 := strconv.ParseInt(f[0], 10, 64)
	b, err2 := strconv.ParseInt(f[1], 10, 64)
	bc, err3 := strconv.ParseUint(f[2], 16, 32)
	hc, err4 := strconv.ParseUint(f[3], 16, 32)
	if err := errors.Join(err1, err2, err3, err4); err != nil || h < 2 || b < 0 || len(f[2]) != 8 || len(f[3]) != 8 {
		return 0, 0, 0, 0, errors.New("malformed frame header")
	}
	return h, b, uint32(bc), uint32(hc), nil
}

// findMagic returns the offset of the next frame start after from, or
// size. Any "SAIL1 " counts, not only one after a newline: a torn frame
// followed by a good one leaves no newline between them. False starts
// fail their checksum and the search goes on.
func findMagic(r io.ReaderAt, from, size int64) int64 {
	pat := []byte(magic)
	const chunk = 1 << 20
	buf := make([]byte, chunk+len(pat))
	for pos := from; pos < size; pos += chunk {
		n, _ := r.ReadAt(buf, pos)
		if n == 0 {
			break
		}
		if k := bytes.Index(buf[:n], pat); k >= 0 {
			return pos + int64(k)
		}
	}
	return size
}

// NewID returns an ID for a record not saved yet: a receiver that must
// name a delivery (to the app it forwards to) before storing it sets
// Record.ID to it.
func (s *Store) NewID() string { return s.newID() }

// newID returns a unique ID that sorts by time: d_<13 base32 digits of
// Unix nanoseconds><4 random base32 digits>. Within a process IDs strictly
// increase even if the clock stands still or steps back.
func (s *Store) newID() string {
	now := s.opts.Now().UnixNano()
	s.idMu.Lock()
	if now <= s.lastNano {
		now = s.lastNano + 1
	}
	s.lastNano = now
	s.idMu.Unlock()
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford, in ASCII order
	var b [2 + 13 + 4]byte
	b[0], b[1] = 'd', '_'
	u := uint64(now)
	for i := 14; i >= 2; i-- {
		b[i] = alphabet[u&31]
		u >>= 5
	}
	r := rand.Uint32()
	for i := 15; i < len(b); i++ {
		b[i] = alphabet[r&31]
		r >>= 5
	}
	return string(b[:])
}

// Save appends rec to the history, assigning rec.ID (and rec.ReceivedAt
// if zero). It returns once the record is written (see Durability); on an
// error nothing is visible and the file is left as it was whenever possible.
// rec.Headers and rec.Body must already be redacted.
//
// Concurrent Saves are group-committed: while one goroutine writes, the
// others append their frames to the next batch, and one of them then
// writes the whole batch with a single write(2). Under load this turns many
// system calls into one; alone, a Save is still one write.
func (s *Store) Save(rec *Record) error {
	if rec.ReceivedAt.IsZero() {
		rec.ReceivedAt = s.opts.Now()
	}
	if rec.ID == "" {
		rec.ID = s.newID()
	}
	if rec.Bytes == 0 {
		rec.Bytes = int64(len(rec.Body))
	}
	// Header and frame line are built in a pooled scratch buffer.
	sp, _ := s.scratch.Get().(*[]byte)
	if sp == nil {
		b := make([]byte, 0, 2048)
		sp = &b
	}
	defer s.scratch.Put(sp)
	hdr := appendHeader((*sp)[:0], rec)
	bodyCRC := crc32.Checksum(rec.Body, castagnoli)
	line := append(hdr[len(hdr):], magic...)
	line = strconv.AppendInt(line, int64(len(hdr)), 10)
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(len(rec.Body)), 10)
	line = append(line, ' ')
	line = appendHex32(line, bodyCRC)
	line = append(line, ' ')
	hdrCRC := crc32.Update(crc32.Checksum(line, castagnoli), castagnoli, hdr)
	line = appendHex32(line, hdrCRC)
	line = append(line, '\n')
	if cap(hdr) <= 64<<10 {
		*sp = hdr[:0] // keep a grown buffer, unless huge
	}
	p := pendingRec{
		sum:     rec.Summary,
		hdrOff:  int64(len(line)),
		hdrLen:  int64(len(hdr)),
		bodyLen: int64(len(rec.Body)),
		bodyCRC: bodyCRC,
	}
	frameLen := int64(len(line)) + p.hdrLen + 1 + p.bodyLen + 1
	if frameLen > smallFrame {
		return s.saveLarge(line, hdr, rec.Body, p)
	}

	s.gmu.Lock()
	b := s.pending
	if b == nil {
		b = &batch{done: make(chan struct{}), lead: make(chan struct{}, 1)}
		if v, ok := s.bufs.Get().(*[]byte); ok {
			b.buf = (*v)[:0]
		}
		s.pending = b
	}
	p.frameOff = int64(len(b.buf))
	b.buf = append(b.buf, line...)
	b.buf = append(b.buf, hdr...)
	b.buf = append(b.buf, '\n')
	b.buf = append(b.buf, rec.Body...)
	b.buf = append(b.buf, '\n')
	b.recs = append(b.recs, p)
	lead := !s.writing
	if lead {
		s.writing = true
		s.pending = nil
	}
	s.gmu.Unlock()

	if !lead {
		select {
		case <-b.done: // written by another Save
			return b.err
		case <-b.lead: // the previous writer handed this batch to us
			s.gmu.Lock()
			s.pending = nil
			s.gmu.Unlock()
		}
	}
	return s.commit(b)
}

// commit writes batch b, whose leader the caller is, then hands the next
// batch (formed while b was written) to one of its members, or ends the
// writing turn. Only leaders touch s.mu here, so waiting members sleep on
// their batch instead of queueing on the mutex one after another.
func (s *Store) commit(b *batch) error {
	s.mu.Lock()
	b.err = s.writeLocked(b.recs, b.buf)
	s.mu.Unlock()
	err := b.err
	close(b.done)
	buf := b.buf[:0]
	if cap(buf) <= 64*smallFrame {
		s.bufs.Put(&buf)
	}
	s.gmu.Lock()
	next := s.pending
	if next == nil {
		s.writing = false
	}
	s.gmu.Unlock()
	if next != nil {
		next.lead <- struct{}{} // buffered: one of its members takes over
	}
	return err
}

// batch is a group of small frames written together.
type batch struct {
	buf  []byte
	recs []pendingRec
	done chan struct{} // closed once written (or failed)
	lead chan struct{} // receives one token when a member must write it
	err  error
}

// pendingRec is what the index needs about a frame being written.
type pendingRec struct {
	sum      Summary
	frameOff int64 // frame start within the write
	hdrOff   int64 // header start within the frame
	hdrLen   int64
	bodyLen  int64
	bodyCRC  uint32
}

// saveLarge writes one big frame straight from the caller's body, so a
// 30 MiB payload is never copied.
func (s *Store) saveLarge(line, hdr, body []byte, p pendingRec) error {
	prefix := make([]byte, 0, len(line)+len(hdr)+1)
	prefix = append(append(append(prefix, line...), hdr...), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked([]pendingRec{p}, prefix, body, []byte{'\n'})
}

// writeLocked appends the frames in parts to the active segment and
// indexes recs. Called with s.mu held.
func (s *Store) writeLocked(recs []pendingRec, parts ...[]byte) error {
	if s.closed {
		return ErrClosed
	}
	var n int64
	for _, part := range parts {
		n += int64(len(part))
	}
	if err := s.ensureSegment(n); err != nil {
		return err
	}
	off := s.active.size
	var err error
	if len(parts) > 1 && s.opts.WrapWriter == nil {
		err = writeParts(s.file, parts)
	} else {
		for _, part := range parts {
			if _, err = s.w.Write(part); err != nil {
				break
			}
		}
	}
	if err == nil && s.opts.Sync {
		err = s.file.Sync()
	}
	if err != nil {
		s.rollback(off)
		return fmt.Errorf("save delivery to history %s: %w (check free space and permissions, or run with --no-history)", s.dir, err)
	}
	s.active.size += n
	s.active.records += len(recs)
	for _, p := range recs {
		s.add(&entry{
			sum:     p.sum,
			seg:     s.active,
			hdrOff:  off + p.frameOff + p.hdrOff,
			hdrLen:  p.hdrLen,
			bodyLen: p.bodyLen,
			bodyCRC: p.bodyCRC,
		})
	}
	s.trim()
	if len(s.dead) > 0 {
		s.prune()
	}
	return nil
}

// rollback removes a partly written frame. If that fails the segment is
// abandoned, so the next Save starts a clean one; the torn frame is then
// skipped (with a warning) when the history is read.
func (s *Store) rollback(off int64) {
	if err := s.file.Truncate(off); err == nil {
		return
	}
	s.active.torn = true
	s.closeActive()
}

func (s *Store) closeActive() {
	if s.file != nil {
		s.file.Close() // releases the lock
	}
	if s.active != nil && s.active.live == 0 {
		s.dead = appendOnce(s.dead, s.active)
	}
	s.active, s.file, s.w = nil, nil, nil
}

// ensureSegment makes sure there is an active segment with room for a
// frame of n bytes: it rolls over a full one, adopts the newest segment
// left by an earlier process if nobody holds it, or creates a new one.
func (s *Store) ensureSegment(n int64) error {
	if a := s.active; a != nil && (a.records >= s.opts.segmentRecords || a.size > 0 && a.size+n > s.opts.segmentBytes) {
		s.closeActive()
	}
	if s.active != nil {
		return nil
	}
	if s.adopt(n) {
		return nil
	}
	for range 3 {
		name := "seg-" + strings.TrimPrefix(s.newID(), "d_") + ".log"
		path := filepath.Join(s.dir, name)
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save delivery to history: %w (check that %s is writable, or run with --no-history)", err, s.dir)
		}
		if _, err := tryLock(f); err != nil {
			f.Close()
			return fmt.Errorf("lock history segment: %w", err)
		}
		if s.opts.Sync {
			syncDir(s.dir)
		}
		seg := &segment{name: name}
		s.segs[name] = seg
		s.setActive(seg, f)
		return nil
	}
	return fmt.Errorf("save delivery to history: could not create a new segment in %s", s.dir)
}

func (s *Store) setActive(seg *segment, f *os.File) {
	s.active, s.file = seg, f
	s.w = f
	if s.opts.WrapWriter != nil {
		s.w = s.opts.WrapWriter(f)
	}
}

// adopt continues the newest segment when it has room, is not held by
// another process and ends cleanly (or with a torn frame we can cut off).
// Appending to it keeps one file per few hundred deliveries instead of one
// per `sail run`.
func (s *Store) adopt(n int64) bool {
	var newest *segment
	for _, seg := range s.segs {
		if newest == nil || seg.name > newest.name {
			newest = seg
		}
	}
	if !canLock || newest == nil || newest.damaged || newest.records >= s.opts.segmentRecords || newest.size+n > s.opts.segmentBytes {
		return false
	}
	path := filepath.Join(s.dir, newest.name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return false
	}
	if ok, _ := tryLock(f); !ok {
		f.Close()
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode().Perm() != 0o600 && f.Chmod(0o600) != nil {
		f.Close()
		return false
	}
	// Only what we scanned may be in the file: give up if it changed since
	// (another process appended), and cut a torn tail we saw.
	switch {
	case fi.Size() != newest.seen:
		f.Close()
		return false
	case newest.torn:
		if f.Truncate(newest.size) != nil {
			f.Close()
			return false
		}
		s.opts.Warn(fmt.Sprintf("history %s: removed an incomplete record left by an interrupted write", newest.name))
		newest.torn, newest.seen = false, newest.size
	}
	s.dead = removeSeg(s.dead, newest)
	s.setActive(newest, f)
	return true
}

func removeSeg(list []*segment, seg *segment) []*segment {
	out := list[:0]
	for _, x := range list {
		if x != seg {
			out = append(out, x)
		}
	}
	return out
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// List returns up to n summaries, newest first (all when n ≤ 0), without
// reading any body.
func (s *Store) List(n int) ([]Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 || n > len(s.entries) {
		n = len(s.entries)
	}
	out := make([]Summary, 0, n)
	for i := len(s.entries) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, s.entries[i].sum)
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
	e := s.find(id)
	if e == nil {
		if err := s.load(); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		e = s.find(id)
	}
	var ec entry
	if e != nil {
		ec = *e
	}
	s.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("delivery %q: %w (list them with `sail history`)", id, ErrNotFound)
	}
	return s.read(&ec)
}

// Last returns the newest record.
func (s *Store) Last() (*Record, error) {
	s.mu.Lock()
	if len(s.entries) == 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("the history is empty: %w", ErrNotFound)
	}
	ec := *s.entries[len(s.entries)-1]
	s.mu.Unlock()
	return s.read(&ec)
}

func (s *Store) find(id string) *entry {
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].sum.ID >= id })
	if i < len(s.entries) && s.entries[i].sum.ID == id {
		return s.entries[i]
	}
	return nil
}

func (s *Store) read(e *entry) (*Record, error) {
	f, err := os.Open(filepath.Join(s.dir, e.seg.name))
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
	rec.Body = buf[e.hdrLen+1:]
	if crc32.Checksum(rec.Body, castagnoli) != e.bodyCRC {
		return nil, fmt.Errorf("read delivery %s: the stored body is damaged (checksum mismatch)", e.sum.ID)
	}
	return rec, nil
}

// Close releases the segment this process appends to. Reads keep working;
// Save returns ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.file != nil {
		if s.opts.Sync {
			err = s.file.Sync()
		}
		if cerr := s.file.Close(); err == nil {
			err = cerr
		}
	}
	s.active, s.file, s.w = nil, nil, nil
	return err
}
