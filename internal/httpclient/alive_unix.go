//go:build unix

package httpclient

import "syscall"

// alive reports whether an idle connection is still open: a read that
// would block means nothing came, while end of file (the server closed it,
// as servers do with idle connections after a few seconds) or unexpected
// bytes mean it cannot carry another request. The read goes through
// Control, not Read, which would refuse once the last exchange's deadline
// had passed.
func alive(raw syscall.RawConn) bool {
	if raw == nil {
		return true
	}
	var buf [1]byte
	var n int
	var rerr error
	err := raw.Control(func(fd uintptr) {
		n, rerr = syscall.Read(int(fd), buf[:])
	})
	return err == nil && n <= 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
}
