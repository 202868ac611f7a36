package cluster

import (
	"encoding/json"
	"testing"

	"lab/runtime/result"
)

// The master decodes whatever reaches its port: no input may panic it, and
// what it accepts holds together as DecodeSync promises.
func FuzzDecodeSync(f *testing.F) {
	good, _ := json.Marshal(Sync{ID: 1, Seq: 2, Seconds: []Second{{Second: result.Second{T: 10, Requests: 3}, Counts: [][2]int64{{3, 0}}}},
		Windows: []Window{{T: 10, Names: []*result.Window{{T: 10, Count: 3}}}}, SecMark: 11, WinMark: 20})
	f.Add(good)
	f.Add([]byte(`{"id":1,"final":{"schema":"lab.run/v1","requests":[{"name":"x","count":-1}]}}`))
	f.Add([]byte(`{"id":1,"seconds":[{"t":5,"counts":[]}]}`))
	f.Add([]byte(`{"id":1} {"id":2}`))
	f.Add([]byte(`{"id":1,"unknown":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSync(data, 1)
		if err != nil {
			return
		}
		for i, sec := range s.Seconds {
			if len(sec.Counts) != 1 || (i > 0 && sec.T <= s.Seconds[i-1].T) {
				t.Fatalf("accepted a bad second: %+v", sec)
			}
		}
		for _, w := range s.Windows {
			if len(w.Names) != 1 {
				t.Fatalf("accepted a bad window: %+v", w)
			}
		}
		if s.Final != nil && s.Final.Validate() != nil {
			t.Fatal("accepted a final run that does not add up")
		}
	})
}
