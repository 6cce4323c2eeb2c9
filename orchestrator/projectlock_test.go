package orchestrator

import (
	"context"
	"testing"
	"time"
)

// up takes the project's lock: while another command holds it, up waits
// (and says so) without touching the engine, then does all its work; so
// two ups of one project never create a network or container twice.
func TestUpWaitsForTheProjectLock(t *testing.T) {
	b := newBed(t, stackFile)
	_, unlock, err := b.o.lockProject(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := b.up(UpOptions{}); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for !b.rec.has("Waiting", "is changing this project") {
		if time.Now().After(deadline) {
			unlock()
			t.Fatalf("up did not wait for the project lock: %v", b.rec.events)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	early := b.eng.Calls("create", "start", "create-network")
	if len(early) > 0 {
		unlock()
		t.Fatalf("up changed the engine while another command held the lock: %v", early)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("up after the lock was released: %v", err)
	}
	// Two ups at once of a project that has nothing yet: both succeed,
	// and the network and containers are created once.
	fresh := newBed(t, stackFile)
	other := *fresh.o
	errs := make(chan error, 2)
	for _, o := range []*Orchestrator{fresh.o, &other} {
		go func() {
			_, err := o.Up(t.Context(), fresh.project(), UpOptions{WaitTimeout: 5 * time.Second})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("two ups at once: %v", err)
		}
	}
	if n := len(fresh.eng.Calls("create-network")); n != 1 {
		t.Fatalf("the project's network was created %d times", n)
	}
	if n, m := len(fresh.eng.Calls("create ")), len(fresh.eng.Calls("create-network")); n-m > 2 {
		t.Fatalf("containers created %d times by two ups: %v", n-m, fresh.eng.Calls("create"))
	}
}
