package cli

import (
	"errors"
	"fmt"

	"lab/gates/exitcode"
)

// exitError ends a command with an exit code (gates/exitcode). Commands
// return it instead of printing and picking a code themselves: dispatch
// says its text once, as "lab <command>: …", and exits with its code.
type exitError struct {
	code int
	msg  string // "" when everything was said already (diagnostics, verdict tables)
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.msg
}

// failf ends the command with code, saying what went wrong.
func failf(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// exitWith ends the command with code, having said all there is to say.
func exitWith(code int) error {
	if code == exitcode.OK {
		return nil
	}
	return &exitError{code: code}
}

// errStop ends a command early and successfully (its help was asked for).
var errStop = &exitError{code: exitcode.OK}

// codeOf is the exit code err carries; an error that carries none means
// the run could not be carried out.
func codeOf(err error) int {
	if err == nil {
		return exitcode.OK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		return exitcode.CouldNotRun
	}
	return ee.code
}

// exit says err, if it has anything left to say, and gives its exit code.
func exit(env *cmdEnv, err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			env.notef("%s", ee.msg)
		}
	} else if err != nil {
		env.notef("%v", err)
	}
	return codeOf(err)
}

// notef says something about the command's progress on stderr, prefixed
// with its name as every message of lab's is.
func (env *cmdEnv) notef(format string, args ...any) {
	fmt.Fprintf(env.stderr, "lab %s: "+format+"\n", append([]any{env.command}, args...)...)
}
