package crypto

import (
	"crypto/rand"
	"encoding/base32"
	"time"
)

// tokenEncoding is base32 with the "extended hex" alphabet in lower case:
// its characters are in ASCII order, so the text of two tokens sorts as
// their bytes do.
var tokenEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// OrderedTokenTimeChars is how many leading characters of an OrderedToken
// carry its time (48 bits of milliseconds and two random bits).
const OrderedTokenTimeChars = 10

// OrderedToken returns an unguessable token (randomBytes random bytes after
// the time) whose text sorts in the order the tokens were made, to the
// millisecond, as a UUIDv7 does. Tokens are kept under unique indexes: a
// random one changes a B-tree page somewhere in the middle of the index for
// every row inserted, one more page for the single writer to journal and
// sync per report; ordered ones are appended where the last one went.
// The time it shows is when the row was made, which its page shows anyway.
func OrderedToken(now time.Time, randomBytes int) string {
	b := make([]byte, 6+randomBytes)
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- { // the low 48 bits, big-endian: good until the year 10889
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return tokenEncoding.EncodeToString(b)
}

// IsTokenText reports whether s is made of OrderedToken's characters only,
// so that a part of it cut by length is still text a database accepts.
func IsTokenText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'v') {
			return false
		}
	}
	return true
}
