package lang

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"lab/lang/units"
)

// pureFuncs are the functions whose result depends only on their arguments;
// an expression that calls only these (and reads only variables) is
// evaluated once at load.
func pureFuncs() map[string]function.Function {
	return map[string]function.Function{
		"abs":          stdlib.AbsoluteFunc,
		"ceil":         stdlib.CeilFunc,
		"floor":        stdlib.FloorFunc,
		"max":          stdlib.MaxFunc,
		"min":          stdlib.MinFunc,
		"pow":          stdlib.PowFunc,
		"parseint":     stdlib.ParseIntFunc,
		"upper":        stdlib.UpperFunc,
		"lower":        stdlib.LowerFunc,
		"title":        stdlib.TitleFunc,
		"trimspace":    stdlib.TrimSpaceFunc,
		"trimprefix":   stdlib.TrimPrefixFunc,
		"trimsuffix":   stdlib.TrimSuffixFunc,
		"format":       stdlib.FormatFunc,
		"formatlist":   stdlib.FormatListFunc,
		"join":         stdlib.JoinFunc,
		"split":        stdlib.SplitFunc,
		"replace":      stdlib.ReplaceFunc,
		"regex":        stdlib.RegexFunc,
		"substr":       stdlib.SubstrFunc,
		"strlen":       stdlib.StrlenFunc,
		"length":       stdlib.LengthFunc,
		"concat":       stdlib.ConcatFunc,
		"contains":     stdlib.ContainsFunc,
		"element":      stdlib.ElementFunc,
		"keys":         stdlib.KeysFunc,
		"values":       stdlib.ValuesFunc,
		"lookup":       stdlib.LookupFunc,
		"merge":        stdlib.MergeFunc,
		"range":        stdlib.RangeFunc,
		"coalesce":     stdlib.CoalesceFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"try":          tryfunc.TryFunc,
		"can":          tryfunc.CanFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"formatdate":   stdlib.FormatDateFunc,
		"timeadd":      stdlib.TimeAddFunc,
		"base64encode": base64EncodeFunc,
		"base64decode": base64DecodeFunc,
		"sha256":       sha256Func,
		"urlencode":    urlEncodeFunc,
		"tostring":     convertFunc(cty.String),
		"tonumber":     convertFunc(cty.Number),
		"tobool":       convertFunc(cty.Bool),
		"seconds":      secondsFunc,
	}
}

// constructorFuncs build the typed values some attributes take: wait times
// and memory sources. They are pure.
func constructorFuncs() map[string]function.Function {
	return map[string]function.Function{
		"constant":  waitFunc("constant", 1),
		"between":   waitFunc("between", 2),
		"pacing":    waitFunc("pacing", 1),
		"pid":       pidFunc,
		"cgroup":    memoryFunc("cgroup", "path"),
		"container": memoryFunc("container", "name"),
		"metrics":   metricsFunc,
		"file_part": filePartFunc,
	}
}

// dynamicFuncNames are the functions that give a new value at every call;
// an expression calling one is evaluated per request.
var dynamicFuncNames = map[string]bool{
	"random_int":    true,
	"random_float":  true,
	"random_choice": true,
	"random_string": true,
	"uuid":          true,
	"timestamp":     true,
	"cookie":        true,
	"unix_ms":       true,
	"totp":          true,
	"traceparent":   true,
	"fake":          true,
}

// FunctionNames lists every function a plan can call, sorted; the language
// reference documents each of them.
func FunctionNames() []string {
	var names []string
	for n := range pureFuncs() {
		names = append(names, n)
	}
	for n := range constructorFuncs() {
		names = append(names, n)
	}
	for n := range dynamicFuncNames {
		names = append(names, n)
	}
	names = append(names, "file")
	sort.Strings(names)
	return names
}

var urlEncodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "s", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(url.QueryEscape(args[0].AsString())), nil
	},
})

// secondsFunc turns a duration into seconds, so plans can do arithmetic on
// durations: seconds("2m") * 2.
var secondsFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "duration", Type: cty.String}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		d, err := units.ParseDuration(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		return cty.NumberFloatVal(d.Seconds()), nil
	},
})

func convertFunc(to cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
		Type:   function.StaticReturnType(to),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := convertValue(args[0], to)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return v, nil
		},
	})
}

var waitType = cty.Object(map[string]cty.Type{"kind": cty.String, "min": cty.String, "max": cty.String})

func waitFunc(kind string, nargs int) function.Function {
	params := []function.Parameter{{Name: "duration", Type: cty.String}}
	if nargs == 2 {
		params = []function.Parameter{{Name: "min", Type: cty.String}, {Name: "max", Type: cty.String}}
	}
	return function.New(&function.Spec{
		Params: params,
		Type:   function.StaticReturnType(waitType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			var ds []time.Duration
			for i, a := range args {
				d, err := units.ParseDuration(a.AsString())
				if err != nil {
					return cty.NilVal, function.NewArgError(i, err)
				}
				ds = append(ds, d)
			}
			lo, hi := args[0], args[len(args)-1]
			if nargs == 2 && ds[1] < ds[0] {
				return cty.NilVal, function.NewArgErrorf(1, "the maximum %s is below the minimum %s", hi.AsString(), lo.AsString())
			}
			if kind == "pacing" && ds[0] <= 0 {
				return cty.NilVal, function.NewArgErrorf(0, "pacing needs a positive interval")
			}
			return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal(kind), "min": lo, "max": hi}), nil
		},
	})
}

var pidFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "pid", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.Object(map[string]cty.Type{"kind": cty.String, "pid": cty.Number})),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, acc := args[0].AsBigFloat().Int64()
		if acc != 0 || n <= 0 || n > math.MaxInt32 {
			return cty.NilVal, function.NewArgErrorf(0, "a process id is a positive whole number")
		}
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("pid"), "pid": args[0]}), nil
	},
})

func memoryFunc(kind, field string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: field, Type: cty.String}},
		Type:   function.StaticReturnType(cty.Object(map[string]cty.Type{"kind": cty.String, field: cty.String})),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if args[0].AsString() == "" {
				return cty.NilVal, function.NewArgErrorf(0, "%s must not be empty", field)
			}
			return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal(kind), field: args[0]}), nil
		},
	})
}

var metricsFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "url", Type: cty.String}, {Name: "metric", Type: cty.String}},
	Type: function.StaticReturnType(cty.Object(map[string]cty.Type{
		"kind": cty.String, "url": cty.String, "metric": cty.String})),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		u, err := url.Parse(args[0].AsString())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cty.NilVal, function.NewArgErrorf(0, "%q is not an http(s) URL", args[0].AsString())
		}
		if args[1].AsString() == "" {
			return cty.NilVal, function.NewArgErrorf(1, "name the metric to read, like \"go_gc_heap_live_bytes\"")
		}
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("metrics"), "url": args[0], "metric": args[1]}), nil
	},
})

// fileFunc reads a file relative to the plan's folder, at load time, through
// the loader (so a plan loaded from git reads the file at the same revision).
func fileFunc(read func(string) ([]byte, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := read(args[0].AsString())
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// dynamicFuncs are the per-request functions, bound to one user's scope so
// that its random sequence is its own and reproducible from the seed.
func dynamicFuncs(s *Scope) map[string]function.Function {
	return map[string]function.Function{
		"cookie": cookieFunc(s),
		"fake":   fakeFunc(s),
		"totp":   totpFunc,
		"traceparent": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.StringVal(s.traceparent()), nil
			},
		}),
		"random_int": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "min", Type: cty.Number}, {Name: "max", Type: cty.Number}},
			Type:   function.StaticReturnType(cty.Number),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				lo, hi, err := intRange(args)
				if err != nil {
					return cty.NilVal, err
				}
				return cty.NumberIntVal(s.randInt(lo, hi)), nil
			},
		}),
		"random_float": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "min", Type: cty.Number}, {Name: "max", Type: cty.Number}},
			Type:   function.StaticReturnType(cty.Number),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				lo, _ := args[0].AsBigFloat().Float64()
				hi, _ := args[1].AsBigFloat().Float64()
				if hi < lo {
					return cty.NilVal, function.NewArgErrorf(1, "max %v is below min %v", hi, lo)
				}
				return cty.NumberFloatVal(lo + s.r.Float64()*(hi-lo)), nil
			},
		}),
		"random_choice": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
			Type: func(args []cty.Value) (cty.Type, error) {
				ty := args[0].Type()
				switch {
				case ty.IsListType() || ty.IsSetType():
					return ty.ElementType(), nil
				case ty.IsTupleType():
					etys := ty.TupleElementTypes()
					if len(etys) == 0 {
						break
					}
					for _, et := range etys[1:] {
						if !et.Equals(etys[0]) {
							// Elements of different types ([["a", "b"], ["c"]]):
							// the one drawn decides.
							return cty.DynamicPseudoType, nil
						}
					}
					return etys[0], nil
				case ty == cty.DynamicPseudoType:
					return cty.DynamicPseudoType, nil
				}
				return cty.NilType, function.NewArgErrorf(0, "random_choice takes a non-empty list, like [\"a\", \"b\"]")
			},
			Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
				n := args[0].LengthInt()
				if n == 0 {
					return cty.NilVal, function.NewArgErrorf(0, "the list is empty")
				}
				i := int(s.r.Int64N(int64(n)))
				v := args[0].Index(cty.NumberIntVal(int64(i)))
				if args[0].Type().IsSetType() {
					v = args[0].AsValueSlice()[i]
				}
				return convertValue(v, retType)
			},
		}),
		"random_string": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "length", Type: cty.Number}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				n, acc := args[0].AsBigFloat().Int64()
				if acc != 0 || n < 0 || n > 1<<20 {
					return cty.NilVal, function.NewArgErrorf(0, "length must be a whole number from 0 to 1048576")
				}
				return cty.StringVal(string(s.appendRandomString(nil, int(n)))), nil
			},
		}),
		"uuid": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.StringVal(string(s.appendUUID(nil))), nil
			},
		}),
		"timestamp": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.StringVal(time.Now().UTC().Format(time.RFC3339)), nil
			},
		}),
		"unix_ms": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.Number),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.NumberIntVal(time.Now().UnixMilli()), nil
			},
		}),
	}
}

func intRange(args []cty.Value) (int64, int64, error) {
	lo, acc1 := args[0].AsBigFloat().Int64()
	hi, acc2 := args[1].AsBigFloat().Int64()
	if acc1 != 0 {
		return 0, 0, function.NewArgErrorf(0, "min must be a whole number")
	}
	if acc2 != 0 {
		return 0, 0, function.NewArgErrorf(1, "max must be a whole number")
	}
	if hi < lo {
		return 0, 0, function.NewArgErrorf(1, "max %d is below min %d", hi, lo)
	}
	if hi-lo < 0 || hi-lo == math.MaxInt64 {
		return 0, 0, function.NewArgErrorf(1, "the range %d..%d is too wide", lo, hi)
	}
	return lo, hi, nil
}

func convertValue(v cty.Value, to cty.Type) (cty.Value, error) {
	if to == cty.DynamicPseudoType {
		return v, nil
	}
	out, err := ctyConvert(v, to)
	if err != nil {
		return cty.NilVal, fmt.Errorf("cannot use %s as %s", v.Type().FriendlyName(), to.FriendlyName())
	}
	return out, nil
}
