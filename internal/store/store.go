// Package store keeps the history of webhook deliveries on disk, so that
// `sail history` can list them, `sail replay` can re-send them and a
// restarted receiver still recognises duplicates.
//
// # Format
//
// Records are appended to segment files in a directory only the user can
// read: seg-<id>.log for accepted deliveries, rej-<id>.log for rejected
// ones (see Retention). Each record is one frame:
//
//	SAIL1 <header length> <body length> <body crc> <header crc>\n
//	<header: one line of JSON (encoding/json), the record without its body>\n
//	<body: raw bytes, exactly as given (already redacted)>\n
//
// CRCs are CRC-32C in 8 hex digits. The header CRC covers the line up to
// and including the space before it, and the header JSON, so a torn or
// garbled frame is detected and skipped (with a warning) and the scan
// resumes at the next "SAIL1 ". The body is written from the caller's
// buffer: a 30 MiB payload costs no second 30 MiB. docs/history-format.md
// describes the format for other tools; `sail history show --json ID`
// prints one record as JSON. Segments written before the rejected ring
// existed (seg-*.log holding every kind of record) are read as they are.
//
// # Retention
//
// Options.Keep accepted deliveries (default 1000) and Options.KeepRejected
// rejected ones (default 100: 401, 400, 413 and 503 answers; 404 and 405
// are not stored at all) are kept, each kind counted on its own and
// written to its own files, so a flood of strangers can never push an
// accepted delivery out nor keep more than about 150 rejected records
// (at most 64 KiB of body each) on disk. A segment file is deleted once
// none of its records is kept.
//
// # Durability
//
// Save returns once write(2) has completed: the record survives a crash of
// this process. Options.Sync adds an fsync per record, which also survives
// a power cut but costs milliseconds per delivery, so it is off by default.
// After each write Save checks that the segment is still the file at its
// path in the history directory (same device and inode): if the directory
// was deleted, replaced or moved, Save reopens the directory as it is now
// and writes the record again, or fails — the receiver then answers 500 —
// so nothing is acknowledged that is not where `sail history` looks.
//
// # Why no group commit
//
// An earlier version let concurrent Saves share one write(2). At
// concurrency 50 with 2 KB deliveries over loopback HTTP on 2 CPUs it
// batched only 1.54–1.57 records per write (BenchmarkThroughput in
// internal/webhook, records/write): the HTTP work between two deliveries
// is much longer than a write, so they rarely meet. It did not earn its
// ~150 lines; each Save is now one write(2) under a mutex (three for
// bodies over 64 KiB, which are not copied).
//
// # Several processes, and files that are not ours
//
// Every process appends to segments it holds an exclusive advisory lock on
// (flock, where the platform has it); it never writes to, truncates or
// deletes a segment another live process holds. Readers take no lock.
// Files are opened with O_NOFOLLOW: a symlink, a non-regular file or a
// file owned by another user in the directory is skipped with a warning
// and never read, written, chmod'ed or deleted.
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
	DefaultKeep         = 1000
	DefaultKeepRejected = 100

	defaultSegmentRecords = 1024
	defaultSegmentBytes   = 8 << 20

	// copyBody is the largest body copied into the frame buffer to make
	// the frame one write(2); larger ones are written from the caller's
	// buffer, since copying them would cost more than two system calls.
	copyBody = 64 << 10
	// verifyAtOpen is the largest body whose CRC is checked when the
	// history is opened; larger bodies are checked by Get.
	verifyAtOpen = 1 << 20
	// maxHeader bounds a frame header; anything larger is damage.
	maxHeader = 16 << 20

	magic = "SAIL1 "
)

// The two kinds of record, each with its own files and limit.
const (
	kindAccepted = iota
	kindRejected
)

var prefixes = [2]string{"seg-", "rej-"}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrNotFound is returned by Get and Last when there is no such record.
var ErrNotFound = errors.New("no such delivery in the history")

// ErrClosed is returned by Save after Close.
var ErrClosed = errors.New("history is closed")

// Options tune a Store. The zero value is usable.
type Options struct {
	// Keep is how many of the newest accepted records stay visible.
	// Default DefaultKeep.
	Keep int
	// KeepRejected is how many of the newest rejected records stay
	// visible. Default DefaultKeepRejected.
	KeepRejected int
	// Now stamps records and IDs. Default time.Now.
	Now func() time.Time
	// Warn receives human-readable notes about skipped damage, foreign
	// files and loose permissions. Default: discard.
	Warn func(string)
	// Sync fsyncs every record before Save returns (see the package doc).
	Sync bool
	// WrapWriter, if set, wraps the segment file for every write. Tests use
	// it to inject a failing or short writer, or to count writes.
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

// Record is one stored delivery. Headers and Body must already be redacted
// by the caller: the store writes them as given. Set Rejected for a
// delivery the receiver refused (bad token, not JSON, too large).
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

	mu     sync.Mutex
	closed bool
	rings  [2]ring
	segs   map[string]*segment
	keys   map[string]int // dedupe key → visible records carrying it
	dead   []*segment     // segments with no visible record left, to delete
	warned map[string]bool
}

// ring is one kind of record: its visible entries and the segment this
// process appends them to.
type ring struct {
	kind    int
	keep    int
	perSeg  int
	entries []*entry // sorted by ID, oldest first
	active  *segment
	file    *os.File // active's file, holding its lock
	fi      os.FileInfo
	w       io.Writer
}

type segment struct {
	name    string
	size    int64 // bytes of whole frames (where the next one goes)
	records int   // frames in the file
	live    int   // visible entries pointing here
	torn    bool  // the file ends with an incomplete frame
	damaged bool  // garbage was skipped somewhere
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
	if opts.KeepRejected <= 0 {
		opts.KeepRejected = DefaultKeepRejected
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
	s := &Store{dir: dir, opts: opts, warned: map[string]bool{}}
	s.rings[kindAccepted] = ring{kind: kindAccepted, keep: opts.Keep, perSeg: opts.segmentRecords}
	// Rejected segments roll over at half the ring, so whole files can be
	// deleted while at most 1.5 rings of rejected records are on disk.
	s.rings[kindRejected] = ring{kind: kindRejected, keep: opts.KeepRejected, perSeg: max(1, min(opts.segmentRecords, opts.KeepRejected/2))}
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

// kindOf tells which ring a record belongs to. Records written before the
// Rejected field existed are rejected when their token was missing or
// wrong or their body too large.
func kindOf(sum *Summary) int {
	if sum.Rejected || sum.Verdict == "missing" || sum.Verdict == "mismatch" || sum.HTTPStatus == 413 {
		return kindRejected
	}
	return kindAccepted
}

// warnOnce reports a problem with a file once per Store, not on every
// reload.
func (s *Store) warnOnce(name, msg string) {
	if !s.warned[name] {
		s.warned[name] = true
		s.opts.Warn(msg)
	}
}

// load reads every segment and rebuilds the index. Called with s.mu held
// (or before s is shared).
func (s *Store) load() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list history: %w", err)
	}
	active := map[string]*segment{}
	for _, r := range s.rings {
		if r.active != nil {
			active[r.active.name] = r.active
		}
	}
	s.segs, s.keys, s.dead = map[string]*segment{}, map[string]int{}, nil
	var entries []*entry
	for _, de := range des { // sorted by name
		name := de.Name()
		if !strings.HasSuffix(name, ".log") || !strings.HasPrefix(name, prefixes[0]) && !strings.HasPrefix(name, prefixes[1]) {
			continue
		}
		if !de.Type().IsRegular() {
			s.warnOnce(name, fmt.Sprintf("history %s: not a regular file (a symlink?): skipped and left untouched", name))
			continue
		}
		seg := active[name]
		if seg == nil {
			seg = &segment{name: name}
		}
		seg.live = 0
		es, err := s.scan(seg)
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned by another process meanwhile
		}
		if err != nil {
			return err
		}
		s.segs[name] = seg
		entries = append(entries, es...)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].sum.ID < entries[j].sum.ID })
	for i := range s.rings {
		s.rings[i].entries = nil
	}
	for _, e := range entries {
		s.add(e)
	}
	for i := range s.rings {
		s.trim(&s.rings[i])
	}
	for _, seg := range s.segs {
		if seg.live == 0 && active[seg.name] == nil {
			s.dead = append(s.dead, seg)
		}
	}
	return nil
}

// add makes e visible, keeping its ring sorted by ID.
func (s *Store) add(e *entry) {
	k := kindOf(&e.sum)
	e.sum.Rejected = k == kindRejected
	r := &s.rings[k]
	n := len(r.entries)
	if n == 0 || r.entries[n-1].sum.ID < e.sum.ID {
		r.entries = append(r.entries, e)
	} else {
		i := sort.Search(n, func(i int) bool { return r.entries[i].sum.ID >= e.sum.ID })
		if i < n && r.entries[i].sum.ID == e.sum.ID {
			return // the same record in two files (a copied segment): show it once
		}
		r.entries = append(r.entries, nil)
		copy(r.entries[i+1:], r.entries[i:])
		r.entries[i] = e
	}
	e.seg.live++
	if e.sum.DedupeKey != "" {
		s.keys[e.sum.DedupeKey]++
	}
}

// trim drops the oldest visible records of r beyond its limit and queues
// segments left without visible records for deletion.
func (s *Store) trim(r *ring) {
	excess := len(r.entries) - r.keep
	if excess <= 0 {
		return
	}
	for _, e := range r.entries[:excess] {
		if k := e.sum.DedupeKey; k != "" {
			if s.keys[k]--; s.keys[k] <= 0 {
				delete(s.keys, k)
			}
		}
		if e.seg.live--; e.seg.live == 0 {
			s.dead = append(s.dead, e.seg)
		}
	}
	clear(r.entries[:excess])
	r.entries = r.entries[excess:]
}

// prune deletes dead segments nobody else holds. Called from Save only, so
// that reading the history never deletes anything.
func (s *Store) prune() {
	keep := s.dead[:0]
	for _, seg := range s.dead {
		if seg.live > 0 || s.segs[seg.name] != seg || s.isActive(seg) {
			continue // visible again, or already handled
		}
		path := filepath.Join(s.dir, seg.name)
		f, err := os.OpenFile(path, os.O_RDWR|noFollow, 0)
		if err != nil {
			delete(s.segs, seg.name)
			continue // gone, or not a file we may touch
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

func (s *Store) isActive(seg *segment) bool {
	return s.rings[0].active == seg || s.rings[1].active == seg
}

// openOurs opens a segment without following a symlink and checks that it
// is a regular file of this user.
func (s *Store) openOurs(name string, flag int) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, name), flag|noFollow, 0)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.warnOnce(name, fmt.Sprintf("history %s: cannot open (%v): skipped and left untouched", name, err))
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || !owned(fi)) {
		err = fmt.Errorf("history %s: not a regular file of this user: %w", name, os.ErrPermission)
		s.warnOnce(name, fmt.Sprintf("history %s: not a regular file owned by you: skipped and left untouched", name))
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// scan reads the frames of one segment file and returns its entries.
func (s *Store) scan(seg *segment) ([]*entry, error) {
	f, fi, err := s.openOurs(seg.name, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, nil // skipped with a warning
	}
	defer f.Close()
	size := fi.Size()
	var r io.ReaderAt = f
	if size <= 2*defaultSegmentBytes {
		// Small segments are read at once: one syscall instead of three per record.
		buf := make([]byte, size)
		n, err := io.ReadFull(f, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("read history %s: %w", seg.name, err)
		}
		size = int64(n)
		r = bytes.NewReader(buf[:n])
	}
	// A segment another process holds may end inside the frame it is
	// writing right now: that is not damage worth a warning.
	busy := false
	if !s.isActive(seg) {
		ok, _ := tryLockShared(f)
		busy = !ok
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
			seg.torn = true
			if !busy && !s.isActive(seg) {
				s.opts.Warn(fmt.Sprintf("history %s: skipped an incomplete record at the end (%d bytes, from an interrupted write)", seg.name, size-off))
			}
			break
		}
		seg.damaged = true
		s.opts.Warn(fmt.Sprintf("history %s: skipped %d damaged bytes at offset %d (%v)", seg.name, resume-off, off, err))
		off = resume
	}
	seg.size, seg.seen = off, size
	return entries, nil
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
// if zero). It returns once the record is written where the history
// directory is now (see Durability); on an error nothing is visible and
// the file is left as it was whenever possible. rec.Headers and rec.Body
// must already be redacted.
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
	hdr, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("save delivery to history: %w", err)
	}
	bodyCRC := crc32.Checksum(rec.Body, castagnoli)
	frame := make([]byte, 0, 64+len(hdr)+min(len(rec.Body), copyBody)+2)
	frame = fmt.Appendf(frame, "%s%d %d %08x ", magic, len(hdr), len(rec.Body), bodyCRC)
	frame = fmt.Appendf(frame, "%08x\n", crc32.Update(crc32.Checksum(frame, castagnoli), castagnoli, hdr))
	lineLen := int64(len(frame))
	e := &entry{sum: rec.Summary, hdrLen: int64(len(hdr)), bodyLen: int64(len(rec.Body)), bodyCRC: bodyCRC}
	frame = append(append(frame, hdr...), '\n')
	parts := [][]byte{frame, rec.Body, {'\n'}}
	if len(rec.Body) <= copyBody {
		parts = [][]byte{append(append(frame, rec.Body...), '\n')}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r := &s.rings[kindOf(&rec.Summary)]
	for try := 0; ; try++ {
		off, err := s.write(r, parts)
		if err != nil {
			return fmt.Errorf("save delivery to history %s: %w (check free space and permissions, or run with --no-history)", s.dir, err)
		}
		if s.inPlace(r) {
			e.seg, e.hdrOff = r.active, off+lineLen
			s.add(e)
			s.trim(r)
			if len(s.dead) > 0 {
				s.prune()
			}
			return nil
		}
		// The segment is no longer at its path: the directory was deleted,
		// replaced or moved. Start over with the directory as it is now.
		s.opts.Warn(fmt.Sprintf("the history directory %s changed while in use (deleted, replaced or moved): reopening it", s.dir))
		s.closeActive()
		if try > 0 {
			return fmt.Errorf("save delivery to history %s: the directory keeps changing", s.dir)
		}
		if err := ensureDir(s.dir, s.opts.Warn); err != nil {
			return fmt.Errorf("save delivery to history: %w", err)
		}
		if err := s.load(); err != nil {
			return fmt.Errorf("save delivery to history: %w", err)
		}
	}
}

// write appends parts to r's active segment as one frame and returns the
// offset it starts at. Called with s.mu held.
func (s *Store) write(r *ring, parts [][]byte) (int64, error) {
	var n int64
	for _, p := range parts {
		n += int64(len(p))
	}
	if err := s.ensureSegment(r, n); err != nil {
		return 0, err
	}
	off := r.active.size
	var err error
	for _, p := range parts {
		if _, err = r.w.Write(p); err != nil {
			break
		}
	}
	if err == nil && s.opts.Sync {
		err = r.file.Sync()
	}
	if err != nil {
		// Remove the partial frame; if that fails, abandon the segment so
		// the next Save starts a clean one (the torn frame is skipped with
		// a warning when the history is read).
		if r.file.Truncate(off) != nil {
			s.closeRing(r)
		}
		return 0, err
	}
	r.active.size += n
	r.active.records++
	return off, nil
}

// inPlace reports whether r's segment is still the file at its path.
func (s *Store) inPlace(r *ring) bool {
	fi, err := os.Lstat(filepath.Join(s.dir, r.active.name))
	return err == nil && os.SameFile(fi, r.fi)
}

func (s *Store) closeActive() {
	for i := range s.rings {
		s.closeRing(&s.rings[i])
	}
}

func (s *Store) closeRing(r *ring) {
	if r.file != nil {
		r.file.Close() // releases the lock
	}
	if r.active != nil && r.active.live == 0 {
		s.dead = append(s.dead, r.active)
	}
	r.active, r.file, r.fi, r.w = nil, nil, nil, nil
}

// ensureSegment makes sure r has an active segment with room for a frame
// of n bytes: it rolls over a full one, adopts the newest segment of its
// kind left by an earlier process if nobody holds it, or creates a new one.
func (s *Store) ensureSegment(r *ring, n int64) error {
	if a := r.active; a != nil && (a.records >= r.perSeg || a.size > 0 && a.size+n > s.opts.segmentBytes) {
		s.closeRing(r)
	}
	if r.active != nil || s.adopt(r, n) {
		return nil
	}
	for range 3 {
		name := prefixes[r.kind] + strings.TrimPrefix(s.newID(), "d_") + ".log"
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND|noFollow, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w (check that %s is writable)", err, s.dir)
		}
		fi, err := f.Stat()
		if err == nil {
			_, err = tryLock(f)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("lock history segment: %w", err)
		}
		if s.opts.Sync {
			syncDir(s.dir)
		}
		seg := &segment{name: name}
		s.segs[name] = seg
		s.setActive(r, seg, f, fi)
		return nil
	}
	return fmt.Errorf("could not create a new segment in %s", s.dir)
}

func (s *Store) setActive(r *ring, seg *segment, f *os.File, fi os.FileInfo) {
	r.active, r.file, r.fi, r.w = seg, f, fi, f
	if s.opts.WrapWriter != nil {
		r.w = s.opts.WrapWriter(f)
	}
}

// adopt continues the newest segment of r's kind when it has room, is not
// held by another process and ends cleanly (or with a torn frame we can
// cut off): one file per few hundred deliveries instead of one per run.
func (s *Store) adopt(r *ring, n int64) bool {
	var newest *segment
	for name, seg := range s.segs {
		if strings.HasPrefix(name, prefixes[r.kind]) && (newest == nil || name > newest.name) {
			newest = seg
		}
	}
	if !canLock || newest == nil || newest.damaged || newest.records >= r.perSeg || newest.size+n > s.opts.segmentBytes {
		return false
	}
	f, fi, err := s.openOurs(newest.name, os.O_RDWR|os.O_APPEND)
	if err != nil {
		return false
	}
	if ok, _ := tryLock(f); !ok || fi.Mode().Perm() != 0o600 && f.Chmod(0o600) != nil {
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
	s.setActive(r, newest, f, fi)
	return true
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// List returns up to n summaries of both kinds, newest first (all when
// n ≤ 0), without reading any body.
func (s *Store) List(n int) ([]Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := s.rings[0].entries, s.rings[1].entries
	if n <= 0 || n > len(a)+len(b) {
		n = len(a) + len(b)
	}
	out := make([]Summary, 0, n)
	for len(out) < n {
		if len(b) == 0 || len(a) > 0 && a[len(a)-1].sum.ID > b[len(b)-1].sum.ID {
			out, a = append(out, a[len(a)-1].sum), a[:len(a)-1]
		} else {
			out, b = append(out, b[len(b)-1].sum), b[:len(b)-1]
		}
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

// Last returns the newest accepted record: never one the receiver
// rejected, however many strangers posted since.
func (s *Store) Last() (*Record, error) {
	s.mu.Lock()
	es := s.rings[kindAccepted].entries
	if len(es) == 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("no accepted delivery in the history: %w", ErrNotFound)
	}
	ec := *es[len(es)-1]
	s.mu.Unlock()
	return s.read(&ec)
}

func (s *Store) find(id string) *entry {
	for _, r := range s.rings {
		i := sort.Search(len(r.entries), func(i int) bool { return r.entries[i].sum.ID >= id })
		if i < len(r.entries) && r.entries[i].sum.ID == id {
			return r.entries[i]
		}
	}
	return nil
}

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
	rec.Body = buf[e.hdrLen+1:]
	if crc32.Checksum(rec.Body, castagnoli) != e.bodyCRC {
		return nil, fmt.Errorf("read delivery %s: the stored body is damaged (checksum mismatch)", e.sum.ID)
	}
	rec.Rejected = kindOf(&rec.Summary) == kindRejected
	return rec, nil
}

// Close releases the segments this process appends to. Reads keep
// working; Save returns ErrClosed. A nil Store (no history) closes as a
// no-op, so callers can defer Close unconditionally.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	for i := range s.rings {
		r := &s.rings[i]
		if r.file != nil && s.opts.Sync {
			err = errors.Join(err, r.file.Sync())
		}
		if r.file != nil {
			err = errors.Join(err, r.file.Close())
		}
		r.active, r.file, r.fi, r.w = nil, nil, nil, nil
	}
	return err
}
