package errdefs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	base := errors.New("services.db.ports[0]: bad port")
	err := fmt.Errorf("load: %w", Invalid(base))
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, base) || err.Error() != "load: services.db.ports[0]: bad port" {
		t.Fatalf("%v", err)
	}
	if errors.Is(err, ErrConflict) || Invalid(nil) != nil {
		t.Fatal("kinds mixed up")
	}
}
