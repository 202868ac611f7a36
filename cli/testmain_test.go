package cli

import (
	"os"
	"testing"

	"lab/cli/clitest"
)

func TestMain(m *testing.M) {
	clitest.ToRoot()
	os.Exit(m.Run())
}
