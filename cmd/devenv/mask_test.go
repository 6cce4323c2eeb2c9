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
		"mysql --password=hunter2":                       "mysql --password=****",
		"GET /x?access_token=abc&apikey=def":             "GET /x?access_token=****&apikey=****",
		"X-Auth-Token: abc":                              "X-Auth-Token: ****",
		"spring.datasource.password=abc":                 "spring.datasource.password=****",
		"a=1|TOKEN=zz":                                   "a=1|TOKEN=****",
		"password=x DB_PASSWORD: y":                      "password=**** DB_PASSWORD: ****",
	}
	for in, want := range cases {
		if got := mask(in, secrets); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}
