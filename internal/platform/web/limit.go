package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Limits protect a node from more work than it can do, and the community
// from one client flooding it.
//
// Admission: at most MaxInFlight requests run at once; a request that finds
// them all busy waits up to QueueWait for a place, with at most MaxInFlight
// others waiting, and is otherwise answered 503 with Retry-After at once.
// Under any load the node then holds a bounded number of requests (and so
// of bodies, database connections and goroutines doing work), answers the
// excess in microseconds instead of queueing it without bound, and is
// itself again as soon as the load drops. Health checks and static files
// are not counted: a busy node must still say it is alive.
//
// Rates: writes (every method but GET and HEAD) are limited per client with
// a token bucket: per account (session or API token) at UserWrites a second, per
// client IP at PublicWrites for requests without a login (a resident's
// report, a login attempt; behind a reverse proxy, list it in
// TrustedProxies, or every client shares the proxy's budget). A burst of BurstSeconds × the rate is allowed.
// The buckets are per node; with n nodes behind a balancer a client gets at
// most n × the rate.
type Limits struct {
	MaxInFlight  int           // 0: no admission control
	QueueWait    time.Duration // how long a request may wait for a place
	UserWrites   float64       // writes a second per account; 0: no limit
	PublicWrites float64       // writes a second per IP without a login; 0: no limit
}

// BurstSeconds is how many seconds of its rate a client may spend at once.
const BurstSeconds = 5

// DefaultLimits suits one node of a street office on two cores.
func DefaultLimits() Limits {
	return Limits{MaxInFlight: 256, QueueWait: 200 * time.Millisecond, UserWrites: 10, PublicWrites: 5}
}

// keyed are the paths whose writes carry their own client key, limited per
// key by their module (Open311: one aggregator posts a whole city's
// reports from one address), not per IP.
func keyed(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/open311/") }

// exempt says which requests admission control lets through uncounted.
func exempt(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/static/")
}

// admission is the in-flight limit: slots holds a token per running
// request, waiting one per waiting request.
type admission struct {
	slots   chan struct{}
	waiting chan struct{}
	wait    time.Duration
}

func newAdmission(l Limits) *admission {
	if l.MaxInFlight <= 0 {
		return nil
	}
	return &admission{slots: make(chan struct{}, l.MaxInFlight), waiting: make(chan struct{}, l.MaxInFlight), wait: l.QueueWait}
}

// enter takes a place or says why not. release must be called after a nil.
func (a *admission) enter(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case a.waiting <- struct{}{}:
	default:
		return overloaded()
	}
	defer func() { <-a.waiting }()
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-t.C:
		return overloaded()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *admission) release() { <-a.slots }

func overloaded() error {
	return &errs.Error{Code: errs.Unavailable, Key: "err.overloaded", Retry: time.Second}
}

func (s *Server) withAdmission(next http.Handler) http.Handler {
	adm := newAdmission(s.Limits)
	if adm == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := adm.enter(r.Context()); err != nil {
			s.shed.Inc()
			s.Error(w, r, err)
			return
		}
		defer adm.release()
		next.ServeHTTP(w, r)
	})
}

// withWriteLimits applies the per-client write rates. It runs after
// withPrincipal, which says who the client is.
func (s *Server) withWriteLimits(next http.Handler) http.Handler {
	users, public := newBuckets(s.Limits.UserWrites), newBuckets(s.Limits.PublicWrites)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		ok, retry := true, time.Duration(0)
		if p := auth.From(r.Context()); p != nil {
			ok, retry = users.take(clientKey(p), time.Now())
		} else if !keyed(r) {
			ok, retry = public.take(Ctx(r.Context()).ClientIP, time.Now())
		}
		if !ok {
			s.throttled.Inc()
			s.Error(w, r, &errs.Error{Code: errs.TooMany, Key: "err.rate", Args: []any{int(retry.Seconds()) + 1}, Retry: retry})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientKey names the bucket of a logged-in client: its account, whether
// it comes with a session or an API token.
func clientKey(p *auth.Principal) string {
	return strconv.FormatInt(p.UserID, 10)
}

// buckets are token buckets by client, forgotten once full again, so that
// the map holds only clients seen in the last BurstSeconds or so.
type buckets struct {
	rate  float64
	mu    sync.Mutex
	m     map[string]*rateBucket
	swept time.Time
}

type rateBucket struct {
	tokens float64
	last   time.Time
}

func newBuckets(rate float64) *buckets {
	return &buckets{rate: rate, m: map[string]*rateBucket{}}
}

// take spends one token of key's bucket. When there is none it says how
// long until there is.
func (b *buckets) take(key string, now time.Time) (bool, time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	burst := b.rate * BurstSeconds
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now, burst)
	k, ok := b.m[key]
	if !ok {
		k = &rateBucket{tokens: burst, last: now}
		b.m[key] = k
	}
	k.tokens = min(burst, k.tokens+now.Sub(k.last).Seconds()*b.rate)
	k.last = now
	if k.tokens < 1 {
		return false, time.Duration((1 - k.tokens) / b.rate * float64(time.Second))
	}
	k.tokens--
	return true, 0
}

// sweep drops, once a second, the buckets that have refilled: they are the
// same as no bucket.
func (b *buckets) sweep(now time.Time, burst float64) {
	if now.Sub(b.swept) < time.Second {
		return
	}
	b.swept = now
	for key, k := range b.m {
		if k.tokens+now.Sub(k.last).Seconds()*b.rate >= burst {
			delete(b.m, key)
		}
	}
}
