package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devenv-dev/devenv/internal/testbed"
)

// A container's name answers through the proxy on a real engine; stopped,
// its 502 page says the state the engine gives it.
func TestIntegrationNamesOfContainers(t *testing.T) {
	c := testbed.Engine(t)
	image := testbed.ServerImage(t)
	project := projectName(t)
	cleanupProject(t, c, project)
	h := newHarness(t)
	h.env = slices.DeleteFunc(h.env, func(kv string) bool { return kv == "DEVENV_PROXY=off" })
	h.write("docker-compose.dev.yml", fmt.Sprintf("name: %s\nservices:\n  web:\n    image: %s\n    ports: [\"%d:8080\"]\n    x-devenv: {http: true}\n", project, image, freePort(t)))
	t.Cleanup(func() { h.run("down"); h.run("proxy", "stop") })
	h.must("up")
	var st struct {
		HTTPS int    `json:"https_port"`
		CA    string `json:"ca"`
	}
	if err := json.Unmarshal([]byte(h.must("proxy", "status", "--format", "json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	cl := proxyClient(t, st.CA, st.HTTPS)
	url := "https://web." + project + ".localhost:" + strconv.Itoa(st.HTTPS) + "/"
	get := func() (int, string) {
		t.Helper()
		resp, err := cl.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, _ := get(); code != 404 {
			break // the routes follow the registry within a second
		}
	}
	if code, body := get(); code != 200 || !strings.Contains(body, "testserver") {
		t.Fatalf("%s: %d %s", url, code, body)
	}
	h.must("stop", "web")
	if code, body := get(); code != 502 || !strings.Contains(body, "container web of project "+project+" (port") || !strings.Contains(body, "exited") {
		t.Fatalf("a stopped container's name: %d %s", code, body)
	}
}
