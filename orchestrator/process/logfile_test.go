package process

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Rotation under a fast writer loses no line, keeps the log near its
// limit, and never writes through a link at NAME.log.1.
func TestLogRotationKeepsEveryLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.log")
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o600)
	if err := os.Symlink(victim, path+".1"); err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 10
	l, err := openLog(path, limit)
	if err != nil {
		t.Fatal(err)
	}
	w, done, err := logPipe(l)
	if err != nil {
		t.Fatal(err)
	}
	const lines = 20000
	bw := bufio.NewWriterSize(w, 4096)
	for i := range lines {
		fmt.Fprintf(bw, "line %d of the service's output\n", i)
	}
	bw.Flush()
	w.Close()
	<-done
	l.Close()
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Fatalf("rotation wrote through the link: %q", b)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if len(cur) > limit+4096 || len(old) > limit+4096 {
		t.Fatalf("log sizes %d and %d over the %d limit", len(old), len(cur), limit)
	}
	// The two files hold the newest lines with no gap, ending at the last.
	var seq []int
	for _, line := range strings.Split(strings.TrimRight(string(old)+string(cur), "\n"), "\n") {
		if n, ok := strings.CutPrefix(line, "line "); ok {
			i, _ := strconv.Atoi(strings.Fields(n)[0])
			seq = append(seq, i)
		} else {
			t.Fatalf("a torn line: %q", line)
		}
	}
	if len(seq) == 0 || seq[len(seq)-1] != lines-1 {
		t.Fatalf("the last line is missing: %v", seq[max(0, len(seq)-3):])
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] != seq[i-1]+1 {
			t.Fatalf("lines lost between %d and %d", seq[i-1], seq[i])
		}
	}
}
