//go:build !unix

package progress

import "os"

// winCols cannot ask for the window size here; COLUMNS or 80 is used.
func winCols(*os.File) (int, bool) { return 0, false }
