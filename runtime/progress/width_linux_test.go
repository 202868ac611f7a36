package progress

import (
	"lab/runtime/needs"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TermWidth reads the window size of a real pseudo-terminal, before
// COLUMNS, and again after the window is resized.
func TestTermWidthOfAPty(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		needs.Missing(t, "no pseudo-terminals here: %v", err)
	}
	defer ptmx.Close()
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	width := TermWidth(tty, func(string) string { return "200" })
	for _, cols := range []uint16{120, 57} {
		if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
			t.Fatal(err)
		}
		if w := width(); w != int(cols) {
			t.Errorf("window of %d columns read as %d", cols, w)
		}
	}
}
