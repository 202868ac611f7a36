package lang

import (
	"net"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// MaxWorkers is the most workers a plan may ask for.
const MaxWorkers = 1000

// DefaultMaster is where the master listens for workers unless told otherwise.
const DefaultMaster = "127.0.0.1:5557"

func (d *decoder) decodeTopology(rt *rawTopology) Topology {
	t := Topology{Workers: 1, Master: DefaultMaster, OnWorkerLoss: "fail"}
	if rt == nil {
		return t
	}
	if present(rt.Workers) {
		if n, ok := d.integer(rt.Workers, "workers", 1, MaxWorkers); ok {
			t.Workers = int(n)
		}
	}
	if present(rt.Master) {
		if s, ok := d.str(rt.Master, "master"); ok {
			if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
				d.errorf(rt.Master.Range(), "Invalid address", "master is a host:port to listen on, like \"127.0.0.1:5557\"; got %q.", s)
			} else {
				t.Master = s
			}
		}
	}
	if present(rt.OnWorkerLoss) {
		// "resplit" is what this setting was first called.
		if s, ok := d.oneOf(rt.OnWorkerLoss, "on_worker_loss", "fail", "continue", "resplit"); ok {
			t.OnWorkerLoss = s
			if s == "resplit" {
				t.OnWorkerLoss = "continue"
			}
		}
	}
	if present(rt.Placement) {
		t.Placement = d.placement(rt.Placement)
	}
	return t
}

// placement reads Swarm placement constraints: each compares a node
// attribute with == or !=.
func (d *decoder) placement(expr hcl.Expression) []string {
	list, ok := d.strList(expr, "placement")
	if !ok {
		return nil
	}
	for _, c := range list {
		if !strings.Contains(c, "==") && !strings.Contains(c, "!=") {
			d.errorf(expr.Range(), "Invalid value for placement",
				"a placement constraint compares a node attribute with == or !=, like \"node.labels.lab == worker\" or \"node.role != manager\"; got %q.", c)
			return nil
		}
	}
	return list
}
