package main

import "testing"

func TestMask(t *testing.T) {
	secrets := []string{"hunter2-long"}
	cases := map[string]string{
		"DATABASE_URL=postgresql://app:s3cret@db:5432/x": "DATABASE_URL=postgresql://app:****@db:5432/x",
		"POSTGRES_PASSWORD=postgres in logs":             "POSTGRES_PASSWORD=**** in logs",
		"the value hunter2-long leaked":                  "the value **** leaked",
		"postgres (ehs_dev_postgres) Healthy":            "postgres (ehs_dev_postgres) Healthy",
		"api_token: abc123":                              "api_token: ****",
		"/tmp/rv/secret: cannot read it":                 "/tmp/rv/secret: cannot read it",
		"/etc/passwd: no such directory":                 "/etc/passwd: no such directory",
		"env PASSWORD=x1 SECRET_KEY=abc":                 "env PASSWORD=**** SECRET_KEY=****",
	}
	for in, want := range cases {
		if got := mask(in, secrets); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}
