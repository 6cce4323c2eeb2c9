package probe

import (
	"bufio"
	"net"
	"testing"
)

// The protocol checks health uses: Redis PING, and what is not Redis.
func TestCheckRedis(t *testing.T) {
	serve := func(reply string) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				bufio.NewReader(c).ReadString('\n')
				c.Write([]byte(reply))
				c.Close()
			}
		}()
		return ln.Addr().String()
	}
	for _, c := range []struct{ reply, status string }{
		{"+PONG\r\n", Healthy}, {"-NOAUTH Authentication required.\r\n", Healthy},
		{"-LOADING Redis is loading\r\n", Starting}, {"HTTP/1.1 400 Bad Request\r\n", Unhealthy},
	} {
		if st, detail := Redis(t.Context(), serve(c.reply)); st != c.status {
			t.Errorf("reply %q: %s (%s), want %s", c.reply, st, detail, c.status)
		}
	}
}
