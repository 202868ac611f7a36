package progress

import (
	"io"
	"os"
	"strconv"
)

// defaultWidth is assumed when the terminal's width cannot be read.
const defaultWidth = 80

// TermWidth returns a function that reads, at each call, how many columns
// the terminal w writes to has: the kernel's window size, else the COLUMNS
// variable (getenv), else 80. Reading it each time follows a resized
// window without a SIGWINCH handler; the call costs one ioctl.
func TermWidth(w io.Writer, getenv func(string) string) func() int {
	f, _ := w.(*os.File)
	return func() int {
		if f != nil {
			if n, ok := winCols(f); ok && n > 0 {
				return n
			}
		}
		if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
			return n
		}
		return defaultWidth
	}
}
