package server

import "testing"

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://app:s3cret@db:5432/hookline", "postgres://app:xxxxx@db:5432/hookline"},
		{"postgres://app@db/hookline", "postgres://app@db/hookline"},
		{"host=db user=app password=s3cret dbname=hookline", "host=db user=app password=xxxxx dbname=hookline"},
		{"host=db password = 's3 cr\\'et' dbname=hookline", "host=db password = xxxxx dbname=hookline"},
		{"host=db dbname=hookline", "host=db dbname=hookline"},
	} {
		if got := redactDSN(tc.dsn); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
