package crypto

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func box(t *testing.T, fill byte) *Box {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	b := box(t, 1)
	s1, s2 := b.Seal("phone", "13812345678"), b.Seal("phone", "13812345678")
	if s1 == s2 || strings.Contains(s1, "1381234") {
		t.Fatalf("ciphertexts must be random and opaque: %q %q", s1, s2)
	}
	if got, err := b.Open("phone", s1); err != nil || got != "13812345678" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open("id_number", s1); err != ErrDecrypt {
		t.Fatalf("a value moved to another field opened: %v", err)
	}
	if _, err := box(t, 2).Open("phone", s1); err != ErrDecrypt {
		t.Fatalf("another key opened it: %v", err)
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := b.Open("phone", tampered); err != ErrDecrypt {
		t.Fatalf("a tampered value opened: %v", err)
	}
	if b.Seal("phone", "") != "" {
		t.Fatal("an empty value should stay empty")
	}
}

func TestBlindIndex(t *testing.T) {
	b := box(t, 1)
	if b.Index("id", "37061319900101123x") != b.Index("id", " 37061319900101123X ") {
		t.Fatal("the index must ignore spaces and the case of x")
	}
	if b.Index("id", "1") == b.Index("phone", "1") || b.Index("id", "1") == box(t, 2).Index("id", "1") {
		t.Fatal("the index must depend on the field and the key")
	}
	if b.Check() == box(t, 2).Check() {
		t.Fatal("different keys share a check value")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "linli.key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("first load: %v %v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v %v", created, err)
	}
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
	if _, err := ParseKey(strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKey("short"); err == nil {
		t.Fatal("a short key was accepted")
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":        "138****5678",
		"370613199001011234": "370613********1234",
		"":                   "",
		"110":                "*10",
	} {
		got := MaskPhone(in)
		if len(in) == 18 {
			got = MaskID(in)
		}
		if got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
	if MaskName("张桂兰") != "张**" {
		t.Errorf("MaskName = %q", MaskName("张桂兰"))
	}
}
