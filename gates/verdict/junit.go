package verdict

import (
	"encoding/xml"
	"fmt"

	"lab/runtime/result"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit renders the verdicts as JUnit XML: one test suite per gate, one
// test case per verdict (a budget of a subject). A breach, "no samples",
// an inconclusive or a missing verdict is a failure; an invalid one an
// error; an advisory one is skipped with its reason.
func JUnit(name string, vs []result.Verdict) ([]byte, error) {
	doc := junitSuites{Name: name}
	for _, g := range groups(vs) {
		s := junitSuite{Name: fmt.Sprintf("%s.%s", name, g[0].Gate)}
		for _, v := range g {
			c := junitCase{Name: v.Subject + ": " + v.Budget, Classname: "lab." + v.Gate,
				SystemOut: fmt.Sprintf("measured %s: %s", v.Measured, v.Detail)}
			msg := &junitMessage{Message: fmt.Sprintf("%s: %s (measured %s)", v.Outcome, v.Budget, v.Measured), Type: v.Outcome, Text: v.Detail}
			switch v.Outcome {
			case result.OutcomePass:
			case result.OutcomeAdvisory:
				c.Skipped = msg
				s.Skipped++
			case result.OutcomeInvalid:
				c.Error = msg
				s.Errors++
			default:
				c.Failure = msg
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
