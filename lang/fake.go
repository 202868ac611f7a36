package lang

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// fake(kind) draws made-up test data from the user's random sequence (so
// a plan's seed replays it), in the forms load scripts take from Python's
// Faker: names, emails, addresses, card numbers that pass the Luhn check,
// words. The lists are small and plain on purpose: the data must look
// real to a form's validation, not to a person.

var (
	fakeFirst   = strings.Fields("Ada Alan Amara Ben Carla Chen Dana Diego Elena Emil Farah Felix Grace Hana Ivan Jon Kai Lena Liam Maya Mina Noah Nora Omar Priya Rosa Sam Sara Tariq Uma Vera Wen Yusuf Zoe")
	fakeLast    = strings.Fields("Abbott Baker Castro Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau Nakamura Novak Okafor Patel Quinn Rossi Schmidt Silva Tanaka Umar Varga Walsh Weber Young Zhang")
	fakeStreets = strings.Fields("Oak Maple Cedar Pine Elm Willow Birch Lake Hill River Park Mill Church Market Station Bridge Garden Meadow Spring Forest")
	fakeSuffix  = strings.Fields("Street Avenue Road Lane Drive Way Court Place Boulevard Terrace")
	fakeCities  = strings.Fields("Springfield Riverton Fairview Georgetown Franklin Clinton Salem Madison Ashland Milton Oxford Arlington Bristol Dover Kingston Lexington Marion Newport Burlington Dayton")
	fakeStates  = strings.Fields("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY")
	fakeCountry = []string{"Argentina", "Australia", "Austria", "Belgium", "Brazil", "Canada", "Chile", "Czechia", "Denmark", "Egypt", "Finland", "France", "Germany", "Ghana", "Greece", "India", "Indonesia", "Ireland", "Italy", "Japan", "Kenya", "Mexico", "Morocco", "Netherlands", "New Zealand", "Nigeria", "Norway", "Peru", "Poland", "Portugal", "South Korea", "Spain", "Sweden", "Switzerland", "Thailand", "Turkey", "United Kingdom", "United States", "Vietnam"}
	fakeCompany = strings.Fields("Acme Globex Initech Umbrella Stark Wayne Wonka Cyberdyne Soylent Hooli Vandelay Tyrell Gringotts Monarch Oscorp")
	fakeCoSuf   = []string{"Inc.", "LLC", "Ltd", "Group", "and Sons", "Labs"}
	fakeWords   = strings.Fields("alpha apple bridge candle cloud copper delta ember falcon forest garden harbor island jacket kettle lantern marble meadow nectar orbit pepper quartz river saddle silver summit timber tunnel velvet willow winter yellow zephyr")
	fakeDomains = []string{"example.com", "example.org", "example.net"}
)

// fakeKinds are the kinds fake() draws, each from the user's random numbers.
var fakeKinds = map[string]func(s *Scope) string{
	"first_name": func(s *Scope) string { return pick(s, fakeFirst) },
	"last_name":  func(s *Scope) string { return pick(s, fakeLast) },
	"name":       func(s *Scope) string { return pick(s, fakeFirst) + " " + pick(s, fakeLast) },
	"user_name": func(s *Scope) string {
		return strings.ToLower(pick(s, fakeFirst)) + "." + strings.ToLower(pick(s, fakeLast)) + strconv.FormatInt(s.randInt(1, 999), 10)
	},
	"email": func(s *Scope) string {
		return strings.ToLower(pick(s, fakeFirst)) + "." + strings.ToLower(pick(s, fakeLast)) + strconv.FormatInt(s.randInt(1, 999), 10) + "@" + pick(s, fakeDomains)
	},
	"street_address": func(s *Scope) string {
		return strconv.FormatInt(s.randInt(1, 9999), 10) + " " + pick(s, fakeStreets) + " " + pick(s, fakeSuffix)
	},
	"city":       func(s *Scope) string { return pick(s, fakeCities) },
	"state_abbr": func(s *Scope) string { return pick(s, fakeStates) },
	"zip_code":   func(s *Scope) string { return fmt.Sprintf("%05d", s.randInt(501, 99950)) },
	"country":    func(s *Scope) string { return pick(s, fakeCountry) },
	// 555-01xx numbers are reserved for fiction in North America.
	"phone": func(s *Scope) string {
		return fmt.Sprintf("+1-%03d-555-%04d", s.randInt(201, 989), s.randInt(100, 199))
	},
	"company":     func(s *Scope) string { return pick(s, fakeCompany) + " " + pick(s, fakeCoSuf) },
	"word":        func(s *Scope) string { return pick(s, fakeWords) },
	"sentence":    func(s *Scope) string { return fakeSentence(s) },
	"credit_card": func(s *Scope) string { return fakeCard(s) },
	"ipv4": func(s *Scope) string {
		// 198.18.0.0/15 is set aside for benchmarks: no real host has one.
		return fmt.Sprintf("198.%d.%d.%d", s.randInt(18, 19), s.randInt(0, 255), s.randInt(1, 254))
	},
}

// FakeKinds lists what fake() draws, for the reference and messages.
func FakeKinds() []string {
	kinds := make([]string, 0, len(fakeKinds))
	for k := range fakeKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func pick(s *Scope, list []string) string { return list[s.r.IntN(len(list))] }

// fakeSentence is four to nine words, the first capitalised, with a full stop.
func fakeSentence(s *Scope) string {
	n := int(s.randInt(4, 9))
	words := make([]string, n)
	for i := range words {
		words[i] = pick(s, fakeWords)
	}
	words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
	return strings.Join(words, " ") + "."
}

// fakeCard is a 16-digit Visa-style number (it starts with 4) whose last
// digit is its Luhn check digit, so a form's validation takes it.
func fakeCard(s *Scope) string {
	var d [16]int
	d[0] = 4
	for i := 1; i < 15; i++ {
		d[i] = int(s.r.IntN(10))
	}
	sum := 0
	for i := 0; i < 15; i++ {
		v := d[i]
		if i%2 == 0 { // doubled: every second digit counting from the check digit
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	d[15] = (10 - sum%10) % 10
	var b strings.Builder
	for _, v := range d {
		b.WriteByte(byte('0' + v))
	}
	return b.String()
}

// fakeFunc is fake(kind), bound to one user's scope.
func fakeFunc(s *Scope) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "kind", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			kind := args[0].AsString()
			f, ok := fakeKinds[kind]
			if !ok {
				return cty.NilVal, function.NewArgErrorf(0, "fake draws no %q.%s Kinds: %s", kind, didYouMean(kind, FakeKinds()), strings.Join(FakeKinds(), ", "))
			}
			return cty.StringVal(f(s)), nil
		},
	})
}
