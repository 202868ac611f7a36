//go:build unix

package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// winCols asks the terminal driver for f's window width.
func winCols(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ws *unix.Winsize
	var werr error
	if err := rc.Control(func(fd uintptr) { ws, werr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); err != nil || werr != nil {
		return 0, false
	}
	return int(ws.Col), true
}
