package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.ngrok.com/ngrok/v2"
)

// ngrokDefaultServer is the SDK's connect address, named in error messages.
const ngrokDefaultServer = "connect.ngrok-agent.com:443"

// abandonAfter bounds how long a failed Open waits for the SDK to wind
// down after cancellation. The SDK returns promptly today; this only keeps a
// future SDK bug from hanging the CLI.
const abandonAfter = 5 * time.Second

// diagnosisGrace is how long a timed-out Open waits for a running diagnosis
// probe, which usually needs milliseconds.
const diagnosisGrace = time.Second

// ngrokPlan is everything Open derives from Options before touching the
// network, kept as plain data so that tests can check it.
type ngrokPlan struct {
	Authtoken   string
	Domain      string // bare host, "" for a random URL
	EndpointURL string // "https://<Domain>", "" lets ngrok assign one
	ServerAddr  string // "" = SDK default
	Proxy       *url.URL
	HTTPProxy   bool // Proxy is http(s): dialled by our CONNECT dialer; otherwise the SDK's (socks5)
	Timeout     time.Duration
	Description string
}

func (p ngrokPlan) serverAddr() string {
	if p.ServerAddr != "" {
		return p.ServerAddr
	}
	return ngrokDefaultServer
}

func (p ngrokPlan) proxyHost() string {
	if p.Proxy == nil {
		return ""
	}
	return p.Proxy.Host
}

// planNgrok validates Options for the ngrok provider.
func planNgrok(o Options) (ngrokPlan, error) {
	p := ngrokPlan{
		Authtoken:   o.Authtoken,
		ServerAddr:  o.ServerAddr,
		Timeout:     o.ConnectTimeout,
		Description: "sail webhook receiver",
	}
	if p.Authtoken == "" {
		return p, missingAuthtoken()
	}
	if strings.TrimSpace(p.Authtoken) != p.Authtoken || strings.ContainsAny(p.Authtoken, " \t\r\n") {
		return p, &Error{
			Kind: KindConfig,
			Msg:  "NGROK_AUTHTOKEN contains spaces or line breaks",
			Hint: "copy the authtoken again from " + authtokenURL + " without surrounding whitespace",
		}
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultConnectTimeout
	}
	if p.ServerAddr != "" {
		if _, _, err := net.SplitHostPort(p.ServerAddr); err != nil {
			return p, &Error{Kind: KindConfig, Err: err,
				Msg:  fmt.Sprintf("invalid ngrok server address %q: %v", p.ServerAddr, err),
				Hint: "use host:port, e.g. connect.ngrok-agent.com:443"}
		}
	}
	if o.Domain != "" {
		d, err := normalizeDomain(o.Domain)
		if err != nil {
			return p, err
		}
		p.Domain = d
		p.EndpointURL = "https://" + d
	}
	if o.ProxyURL != "" {
		u, err := parseProxyURL(o.ProxyURL)
		if err != nil {
			return p, err
		}
		p.Proxy = u
		p.HTTPProxy = u.Scheme == "http" || u.Scheme == "https"
	}
	return p, nil
}

// normalizeDomain accepts "name.ngrok.app" or "https://name.ngrok.app" and
// returns the bare host. ngrok serves the webhook over https on port 443,
// so ports, paths and other schemes are mistakes worth reporting early.
func normalizeDomain(raw string) (string, error) {
	bad := func(why string) error {
		return &Error{
			Kind: KindConfig,
			Msg:  fmt.Sprintf("invalid ngrok domain (--domain) %q: %s", raw, why),
			Hint: "pass a domain reserved at https://dashboard.ngrok.com/domains, e.g. sail-hooks.ngrok.app",
		}
	}
	d := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(raw), "https://"), "/")
	if strings.Contains(d, "://") {
		return "", bad("only https domains are supported")
	}
	u, err := url.Parse("https://" + d)
	if err != nil || d == "" || u.Host != d || u.Port() != "" || u.User != nil || strings.ContainsAny(d, "/?#@ ") {
		return "", bad("want a host name like name.ngrok.app")
	}
	if !strings.Contains(d, ".") {
		return "", bad("want a fully qualified host name like name.ngrok.app")
	}
	return strings.ToLower(d), nil
}

// agentOptions turns the plan into SDK options. events receives the
// agent's events (see sessionWatch).
func (p ngrokPlan) agentOptions(logger *slog.Logger, events ngrok.EventHandler) []ngrok.AgentOption {
	opts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(p.Authtoken),
		ngrok.WithLogger(logger),
		ngrok.WithEventHandler(events),
		ngrok.WithAgentDescription(p.Description),
	}
	if p.ServerAddr != "" {
		opts = append(opts, ngrok.WithAgentConnectURL(p.ServerAddr))
	}
	switch {
	case p.Proxy == nil:
	case p.HTTPProxy:
		opts = append(opts, ngrok.WithDialer(&connectDialer{proxy: p.Proxy}))
	default:
		opts = append(opts, ngrok.WithProxyURL(p.Proxy.String()))
	}
	return opts
}

func (p ngrokPlan) endpointOptions() []ngrok.EndpointOption {
	opts := []ngrok.EndpointOption{ngrok.WithDescription(p.Description)}
	if p.EndpointURL != "" {
		opts = append(opts, ngrok.WithURL(p.EndpointURL))
	}
	return opts
}

// sessionWatch collects the agent's session events while Open waits. The
// SDK reports a refused authtoken or an unreachable server only as
// AgentDisconnected events while it keeps retrying, so this is where the
// real cause of a failed connect is found.
type sessionWatch struct {
	logger *slog.Logger
	token  string
	fatal  chan error    // first refusal that retrying cannot fix; buffered 1
	vague  chan struct{} // a failure that names no cause: worth a diagnosis; buffered 1

	mu        sync.Mutex
	last      error
	connected bool
	opened    bool
}

func newSessionWatch(logger *slog.Logger, token string) *sessionWatch {
	return &sessionWatch{logger: logger, token: token, fatal: make(chan error, 1), vague: make(chan struct{}, 1)}
}

// handle is the ngrok.EventHandler. It must not block (the SDK calls it on
// its session goroutine).
func (w *sessionWatch) handle(ev ngrok.Event) {
	switch ev := ev.(type) {
	case *ngrok.EventAgentConnectSucceeded:
		w.mu.Lock()
		w.connected = true
		w.mu.Unlock()
	case *ngrok.EventAgentDisconnected:
		if ev.Error == nil || errors.Is(ev.Error, context.Canceled) || errors.Is(ev.Error, context.DeadlineExceeded) {
			return
		}
		w.mu.Lock()
		w.last = ev.Error
		opened := w.opened
		w.mu.Unlock()
		if opened {
			// After Open the SDK reconnects by itself; say so in the log
			// instead of failing the run.
			w.logger.Warn("ngrok session lost; reconnecting", "err", redact(ev.Error.Error(), w.token))
			return
		}
		// The service refused us (bad authtoken, session limit, …):
		// retrying until the timeout would only delay the same answer.
		if ngrokCode(ev.Error) != "" {
			select {
			case w.fatal <- ev.Error:
			default:
			}
			return
		}
		if !specific(ev.Error) {
			select {
			case w.vague <- struct{}{}:
			default:
			}
		}
	}
}

func (w *sessionWatch) state() (last error, connected bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.connected
}

func (w *sessionWatch) markOpened() {
	w.mu.Lock()
	w.opened = true
	w.mu.Unlock()
}

// ngrokTunnel holds what Close must tear down.
type ngrokTunnel struct {
	agent  ngrok.Agent
	cancel context.CancelFunc
}

// agentFactory creates the SDK agent; tests substitute a fake to drive
// Open's control flow without a network.
type agentFactory func(p ngrokPlan, logger *slog.Logger, events ngrok.EventHandler) (ngrok.Agent, error)

func newSDKAgent(p ngrokPlan, logger *slog.Logger, events ngrok.EventHandler) (ngrok.Agent, error) {
	return ngrok.NewAgent(p.agentOptions(logger, events)...)
}

func openNgrok(ctx context.Context, o Options) (Tunnel, error) {
	return openNgrokWith(ctx, o, newSDKAgent)
}

func openNgrokWith(ctx context.Context, o Options, newAgent agentFactory) (Tunnel, error) {
	p, err := planNgrok(o)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	watch := newSessionWatch(logger, p.Authtoken)
	agent, err := newAgent(p, logger, watch.handle)
	if err != nil {
		return nil, classifyNgrok(err, p)
	}

	// The context given to Listen owns the session for the tunnel's whole
	// life, so it must outlive Open's ctx; Close cancels it.
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	type result struct {
		ln  ngrok.EndpointListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		ln, err := agent.Listen(life, p.endpointOptions()...)
		done <- result{ln, err}
	}()

	diag := startDiagnosis(life, agent)
	defer diag.stop()

	timer := time.NewTimer(p.Timeout)
	defer timer.Stop()

	// abort stops the connect attempt and waits (bounded) for the SDK to
	// return, so that a failed Open leaves no session behind. returned
	// says Listen has already returned (with an error).
	abort := func(returned bool) {
		cancel()
		disconnected := make(chan struct{})
		go func() {
			// Disconnect waits for an in-flight Connect to give up, then
			// closes any session that made it, which also unblocks a bind
			// request the SDK sends without a context.
			_ = agent.Disconnect()
			close(disconnected)
		}()
		if !returned {
			select {
			case r := <-done:
				if r.ln != nil {
					_ = r.ln.Close()
				}
				_ = agent.Disconnect()
			case <-time.After(abandonAfter):
				logger.Warn("ngrok SDK did not stop after cancellation; abandoning it")
			}
		}
		select {
		case <-disconnected:
		case <-time.After(abandonAfter):
		}
		diag.stop()
	}

	for {
		select {
		case r := <-done:
			if r.err != nil {
				abort(true)
				if last, _ := watch.state(); last != nil && ngrokCode(r.err) == "" && ngrokCode(last) != "" {
					return nil, classifyNgrok(last, p)
				}
				return nil, classifyNgrok(r.err, p)
			}
			watch.markOpened()
			return newNgrokTunnel(r.ln, &ngrokTunnel{agent: agent, cancel: cancel}, p), nil
		case err := <-watch.fatal:
			abort(false)
			return nil, classifyNgrok(err, p)
		case <-watch.vague:
			diag.start()
		case <-timer.C:
			if last, _ := watch.state(); !specific(last) {
				// A probe that is about to name the cause is worth a
				// moment more than a vague message.
				diag.wait(diagnosisGrace)
			}
			abort(false)
			last, connected := watch.state()
			if d := diag.result(); d != nil && !specific(last) {
				last = d
			}
			return nil, timeoutError(p.Timeout, last, connected, p)
		case <-ctx.Done():
			abort(false)
			return nil, fmt.Errorf("open ngrok tunnel: %w", ctx.Err())
		}
	}
}

// diagnosis runs the SDK's step-by-step probe (TCP, TLS, ngrok protocol)
// once, when the session fails with an error that names no cause: the
// session layer reports a TLS failure only as "session closed".
type diagnosis struct {
	ctx    context.Context
	cancel context.CancelFunc
	agent  ngrok.Agent
	once   sync.Once
	done   chan struct{}
	err    error
}

func startDiagnosis(life context.Context, agent ngrok.Agent) *diagnosis {
	ctx, cancel := context.WithCancel(life)
	return &diagnosis{ctx: ctx, cancel: cancel, agent: agent}
}

func (d *diagnosis) start() {
	dg, ok := d.agent.(ngrok.Diagnoser)
	if !ok {
		return
	}
	d.once.Do(func() {
		d.done = make(chan struct{})
		go func() {
			defer close(d.done)
			_, err := dg.Diagnose(d.ctx, "")
			if d.ctx.Err() == nil {
				d.err = err
			}
		}()
	})
}

// stop cancels a running probe and waits for it (bounded).
func (d *diagnosis) stop() {
	d.once.Do(func() {}) // no probe may start after stop
	d.cancel()
	if d.done != nil {
		select {
		case <-d.done:
		case <-time.After(abandonAfter):
		}
	}
}

// wait gives a running probe up to grace to finish.
func (d *diagnosis) wait(grace time.Duration) {
	if d.done == nil {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
	}
}

// result is the probe's failure, or nil when none ran, it passed, or it
// was cut short. Call after stop.
func (d *diagnosis) result() error {
	if d.done == nil {
		return nil
	}
	select {
	case <-d.done:
		return d.err
	default:
		return nil
	}
}

func newNgrokTunnel(ln ngrok.EndpointListener, nt *ngrokTunnel, p ngrokPlan) *tunnel {
	u := strings.TrimRight(ln.URL().String(), "/")
	note := "public ngrok endpoint: anyone with the URL can reach it; deliveries are checked against the webhook token"
	if p.Domain != "" {
		note = "public ngrok endpoint on " + p.Domain + ": anyone with the URL can reach it; deliveries are checked against the webhook token"
	}
	return &tunnel{
		ln:         &onceCloseListener{Listener: ln},
		url:        u,
		provider:   Ngrok,
		listenAddr: u,
		note:       note,
		closeFn: func() error {
			err := nt.agent.Disconnect()
			nt.cancel()
			return err
		},
	}
}
