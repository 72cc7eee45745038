// Package crypto protects residents' personal data at rest: AES-256-GCM for
// the values, a keyed blind index (HMAC-SHA256) for exact search without
// decrypting, and the masks shown on screen (138****5678).
//
// One 32-byte master key comes from configuration or from a key file that
// Linli generates on first start (0600). Separate keys for encryption and
// for the index are derived from it, so that the index reveals nothing
// usable for decryption. The database keeps a check value of the key: a
// node started with another key refuses to start instead of silently
// writing data that nobody can read.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// KeySize is the master key length in bytes.
const KeySize = 32

// Box encrypts, decrypts and indexes personal data with one master key.
type Box struct {
	aead     cipher.AEAD
	indexKey []byte
	check    string
}

// New builds a Box from a master key.
func New(master []byte) (*Box, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("crypto: the key must be %d bytes, got %d", KeySize, len(master))
	}
	block, err := aes.NewCipher(derive(master, "linli/encrypt/v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, indexKey: derive(master, "linli/index/v1"),
		check: hex.EncodeToString(derive(master, "linli/check/v1")[:16])}, nil
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Check is a value that identifies the key without revealing it; the
// database keeps it to notice a wrong key at start-up.
func (b *Box) Check() string { return b.check }

// Seal encrypts plaintext for the named field (the field is bound into the
// ciphertext, so a value copied into another column does not decrypt).
// The empty string stays empty: "not given" needs no secrecy.
func (b *Box) Seal(field, plaintext string) string {
	if plaintext == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(field))
	return "v1:" + base64.RawStdEncoding.EncodeToString(sealed)
}

// ErrDecrypt means a value was altered or sealed with another key.
var ErrDecrypt = errors.New("crypto: the value cannot be decrypted with this key")

// Open decrypts a value from Seal.
func (b *Box) Open(field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < b.aead.NonceSize() {
		return "", ErrDecrypt
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(field))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// Index returns the blind index of a value for exact search in the named
// field: the same value always gives the same index, and the index cannot
// be reversed without the key. Values are compared after trimming spaces
// and upper-casing (an ID number's final x or X).
func (b *Box) Index(field, value string) string {
	value = strings.ToUpper(strings.TrimSpace(value))
	if value == "" {
		return ""
	}
	m := hmac.New(sha256.New, b.indexKey)
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// LoadOrCreateKey reads the master key from path (hex), creating the file
// with a new random key (mode 0600) when it does not exist. created tells
// the caller that this is a new key.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err = hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("key file %s does not hold a %d-byte hex key", path, KeySize)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	// O_EXCL: two processes starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, false, err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, err
	}
	return key, true, f.Close()
}

// ParseKey reads a key given in configuration (hex or base64).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("the key must be %d bytes in hex (64 characters) or base64", KeySize)
}

// MaskPhone shows the first 3 and last 4 digits of a mobile number:
// 13812345678 → 138****5678. Short numbers keep only their last 2.
func MaskPhone(phone string) string {
	return maskMiddle(phone, 3, 4)
}

// MaskID shows the 6-digit region and the last 4 characters of an ID
// number: 370613199001011234 → 370613********1234.
func MaskID(id string) string {
	return maskMiddle(id, 6, 4)
}

// MaskName keeps the first character of a name: 张桂兰 → 张**.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	if len(r) <= 1 {
		return string(r)
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

func maskMiddle(s string, head, tail int) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	r := []rune(s)
	if n <= head+tail {
		keep := min(2, n-1)
		return strings.Repeat("*", n-keep) + string(r[n-keep:])
	}
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}
