package orchestrator

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Attached, up follows the output with compose's prefixes; a watched
// container that exits with --abort-on-container-exit stops the rest and
// gives its code (or --exit-code-from's service's).
func TestAttachAbortsOnExit(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     AttachOptions
		wantCode int
	}{
		{"abort on exit", AttachOptions{AbortOnExit: true}, 3},
		{"exit code from api", AttachOptions{AbortOnExit: true, ExitCodeFrom: "api"}, 3},
		{"no prefix, timestamps", AttachOptions{AbortOnFailure: true, NoPrefix: true, Timestamps: true}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBed(t, stackFile)
			res := b.mustUp(UpOptions{NoWait: true})
			go func() {
				time.Sleep(50 * time.Millisecond)
				api := b.eng.ByName("demo-api-1")
				b.eng.Mu.Lock()
				api.State, api.ExitCode = "exited", 3
				b.eng.Mu.Unlock()
			}()
			var out bytes.Buffer
			code, err := b.o.Attach(t.Context(), b.project(), res, c.opts, &out)
			if err != nil || code != c.wantCode {
				t.Fatalf("attach: code %d, err %v\n%s", code, err, out.String())
			}
			if !strings.Contains(out.String(), "log line of demo-db-1") {
				t.Fatalf("no output followed:\n%s", out.String())
			}
			if b.container("demo-db-1").State == "running" {
				t.Fatal("the abort left db running")
			}
		})
	}
}
