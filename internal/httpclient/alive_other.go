//go:build !unix

package httpclient

import "syscall"

// alive cannot look at an idle connection here; a request that finds it
// closed is sent again on a new one (see Client.Do).
func alive(syscall.RawConn) bool { return true }
