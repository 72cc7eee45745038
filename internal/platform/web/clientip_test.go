package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The client's address is the peer's unless the peer is a trusted proxy;
// then it is the rightmost X-Forwarded-For entry that is not a trusted
// proxy, so that entries a client wrote itself on the left are ignored.
func TestClientIP(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.9:5000", "", "203.0.113.9"},
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},            // an untrusted peer's header is ignored
		{"10.0.0.2:443", "1.2.3.4", "1.2.3.4"},                    // one proxy
		{"10.0.0.2:443", "6.6.6.6, 1.2.3.4, 10.0.0.7", "1.2.3.4"}, // two proxies; 6.6.6.6 was the client's own claim
		{"10.0.0.2:443", "not-an-ip, 1.2.3.4", "1.2.3.4"},
		{"10.0.0.2:443", "1.2.3.4, garbage", "10.0.0.2"}, // the chain breaks at the first hop: nothing past the proxy is known
		{"10.0.0.2:443", "10.0.0.9", "10.0.0.9"},         // every hop trusted: the farthest known
		{"[::1]:8080", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:10.0.0.2]:443", "1.2.3.4", "1.2.3.4"}, // IPv4 seen through a v6 socket
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.clientIP(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
