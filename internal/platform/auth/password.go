package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes), which keeps a
// login under ~30 ms here and an idle server's memory small.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32

	minKeyLen    = 16        // shortest stored key CheckPassword trusts
	maxMemoryKiB = 256 << 10 // a stored hash asking for more is damaged, not a reason to allocate it
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	hashed()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash from HashPassword,
// honouring the parameters stored in the hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	// A damaged hash must read as "no match", never as a panic (argon2
	// panics on t or p of 0, and on an empty key) nor as a match: a key cut
	// to a byte or two would accept most passwords.
	if err1 != nil || err2 != nil || t < 1 || p < 1 || len(salt) == 0 || len(want) < minKeyLen || m > maxMemoryKiB {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	hashed()
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the account does not exist, so that
// the answer takes as long as for a real account.
var dummyHash = sync.OnceValue(func() string { return HashPassword("not a real password") })

// Each hash leaves a 19 MiB block of garbage, which a quiet server keeps
// resident until the runtime's next collection, up to two minutes later:
// one login took an idle server from 53 to 83 MB. Once no password has been
// hashed for releaseAfter, the memory goes back to the system (one
// collection, a few ms); a run of logins triggers one release, after it.
var (
	releaseAfter  = time.Second
	releaseMemory = debug.FreeOSMemory
	releaseMu     sync.Mutex
	releaseTimer  *time.Timer
)

// hashed schedules the release after a hash, or postpones the one due.
func hashed() {
	releaseMu.Lock()
	defer releaseMu.Unlock()
	if releaseTimer == nil {
		releaseTimer = time.AfterFunc(releaseAfter, func() {
			releaseMu.Lock()
			release := releaseMemory
			releaseMu.Unlock()
			release()
		})
		return
	}
	releaseTimer.Reset(releaseAfter)
}
