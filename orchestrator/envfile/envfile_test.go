package envfile

import (
	"strings"
	"testing"
)

// The block is replaced in place, other lines kept; a value that needs
// quotes gets them; drift names what differs.
func TestRenderAndDrift(t *testing.T) {
	vars := [][2]string{{"API_URL", "http://localhost:4000"}, {"NAME", "two words"}}
	got, err := Render("MINE=1\n"+BlockBegin+"\nAPI_URL=old\n"+BlockEnd+"\nLATER=2\n", vars)
	if err != nil {
		t.Fatal(err)
	}
	want := "MINE=1\n" + BlockBegin + "\nAPI_URL=http://localhost:4000\nNAME='two words'\n" + BlockEnd + "\nLATER=2\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if d := Drift("x.env", got, vars); len(d) != 0 {
		t.Fatalf("drift after render: %v", d)
	}
	if d := Drift("x.env", "A=1\n", vars); len(d) != 1 || !strings.Contains(d[0], "no devenv block") {
		t.Fatalf("drift without a block: %v", d)
	}
	if _, err := Render(BlockBegin+"\nKEEP=me\n", vars); err == nil {
		t.Fatal("a block without its end line was rewritten")
	}
}
