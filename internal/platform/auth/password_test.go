package auth

import (
	"testing"
	"time"
)

func TestHashingHandsItsMemoryBack(t *testing.T) {
	released := make(chan struct{}, 16)
	releaseMu.Lock()
	oldRelease, oldAfter := releaseMemory, releaseAfter
	releaseMemory, releaseAfter = func() { released <- struct{}{} }, 50*time.Millisecond
	releaseMu.Unlock()
	t.Cleanup(func() {
		releaseMu.Lock()
		releaseMemory, releaseAfter = oldRelease, oldAfter
		releaseMu.Unlock()
	})

	h := HashPassword("correct horse")
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "wrong horse") {
		t.Fatal("the hash does not check its password")
	}
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("the memory of the hashes was not handed back")
	}
}
