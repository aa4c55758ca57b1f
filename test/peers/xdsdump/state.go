package main

import (
	"encoding/json"
	"fmt"
	"sort"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	aggregate "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/aggregate/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	cdsType = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	edsType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	ldsType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	rdsType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
)

// Envoy's order of subscription: clusters and their endpoints before listeners and their routes.
var typeOrder = []string{cdsType, edsType, ldsType, rdsType}

// typeState is one resource type's subscription and what the server has sent for it.
type typeState struct {
	wildcard  bool
	want      map[string]bool // names the proxy needs now
	sent      map[string]bool // names subscribed on the wire
	resources map[string]*anypb.Any
	waiting   bool // a request went out that no response has answered yet
	version   string
	nonce     string
	started   bool // the first request (carrying the node) has been sent
}

type state struct {
	mode  string
	types map[string]*typeState
	count int
}

func newState(mode string, listeners []string) *state {
	st := &state{mode: mode, types: map[string]*typeState{}}
	for _, t := range typeOrder {
		st.types[t] = &typeState{want: map[string]bool{}, sent: map[string]bool{}, resources: map[string]*anypb.Any{}}
	}
	if mode == "envoy" {
		st.types[cdsType].wildcard = true
		st.types[ldsType].wildcard = true
	} else {
		for _, l := range listeners {
			st.types[ldsType].want[l] = true
		}
	}
	return st
}

func (st *state) pending() bool {
	for _, t := range st.types {
		if t.waiting {
			return true
		}
	}
	return false
}

// store records a response's resources; a SotW response of a wildcard type replaces the whole set.
func (st *state) store(typeURL string, resources []*anypb.Any, names []string, removed []string, replace bool) {
	t := st.types[typeURL]
	if t == nil {
		return
	}
	st.count++
	t.waiting = false
	if replace {
		t.resources = map[string]*anypb.Any{}
	}
	for i, r := range resources {
		t.resources[names[i]] = r
	}
	for _, n := range removed {
		delete(t.resources, n)
	}
	st.derive()
}

// derive recomputes the names an Envoy or a gRPC client would subscribe to from what it holds.
func (st *state) derive() {
	eds := map[string]bool{}
	cds := map[string]bool{}
	rds := map[string]bool{}
	for _, l := range decodeAll[*listener.Listener](st.types[ldsType]) {
		for _, name := range listenerRoutes(l) {
			rds[name] = true
		}
	}
	if st.mode == "grpc" {
		for _, rc := range decodeAll[*route.RouteConfiguration](st.types[rdsType]) {
			for _, name := range routeClusters(rc) {
				cds[name] = true
			}
		}
		st.types[cdsType].want = cds
	}
	for _, c := range decodeAll[*cluster.Cluster](st.types[cdsType]) {
		if c.GetType() == cluster.Cluster_EDS {
			name := c.GetEdsClusterConfig().GetServiceName()
			if name == "" {
				name = c.GetName()
			}
			eds[name] = true
		}
		if st.mode == "grpc" {
			for _, sub := range aggregateClusters(c) {
				st.types[cdsType].want[sub] = true
			}
		}
	}
	st.types[edsType].want = eds
	st.types[rdsType].want = rds
}

func decodeAll[M proto.Message](t *typeState) []M {
	var out []M
	for _, a := range t.resources {
		m, err := a.UnmarshalNew()
		if err != nil {
			continue
		}
		if typed, ok := m.(M); ok {
			out = append(out, typed)
		}
	}
	return out
}

func listenerRoutes(l *listener.Listener) []string {
	var names []string
	add := func(a *anypb.Any) {
		h := &hcm.HttpConnectionManager{}
		if a == nil || !a.MessageIs(h) || a.UnmarshalTo(h) != nil {
			return
		}
		if h.GetRds() != nil {
			names = append(names, h.GetRds().GetRouteConfigName())
		}
	}
	chains := append([]*listener.FilterChain{}, l.GetFilterChains()...)
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains, l.GetDefaultFilterChain())
	}
	for _, fc := range chains {
		for _, f := range fc.GetFilters() {
			add(f.GetTypedConfig())
		}
	}
	add(l.GetApiListener().GetApiListener())
	return names
}

func routeClusters(rc *route.RouteConfiguration) []string {
	var names []string
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			a := r.GetRoute()
			if a == nil {
				continue
			}
			if a.GetCluster() != "" {
				names = append(names, a.GetCluster())
			}
			for _, w := range a.GetWeightedClusters().GetClusters() {
				names = append(names, w.GetName())
			}
		}
	}
	return names
}

func aggregateClusters(c *cluster.Cluster) []string {
	cfg := &aggregate.ClusterConfig{}
	tc := c.GetClusterType().GetTypedConfig()
	if tc == nil || !tc.MessageIs(cfg) || tc.UnmarshalTo(cfg) != nil {
		return nil
	}
	return cfg.GetClusters()
}

// eachChange calls send, in Envoy's type order, for every type whose subscription must go out now (its
// first request, or names to add or drop); the request counts as started and awaiting an answer.
func (st *state) eachChange(send func(typeURL string, t *typeState, sub, unsub []string) error) error {
	for _, typeURL := range typeOrder {
		t := st.types[typeURL]
		sub, unsub := t.changes()
		first := !t.started && (t.wildcard || len(sub) > 0)
		if !first && len(sub) == 0 && len(unsub) == 0 {
			continue
		}
		if err := send(typeURL, t, sub, unsub); err != nil {
			return err
		}
		t.started = true
		t.waiting = true
	}
	return nil
}

// changes are the names to subscribe and unsubscribe for a type, in a stable order.
func (t *typeState) changes() (sub, unsub []string) {
	for n := range t.want {
		if !t.sent[n] {
			sub = append(sub, n)
		}
	}
	for n := range t.sent {
		if !t.want[n] {
			unsub = append(unsub, n)
		}
	}
	sort.Strings(sub)
	sort.Strings(unsub)
	return sub, unsub
}

func (t *typeState) names() []string {
	var out []string
	for n := range t.want {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type output struct {
	Resources map[string]map[string]json.RawMessage `json:"resources"`
	Invalid   map[string]map[string]string          `json:"invalid"`
	Missing   map[string][]string                   `json:"missing"`
	Responses int                                   `json:"responses"`
	Errors    []string                              `json:"errors"`
}

type validator interface{ ValidateAll() error }

func (st *state) output() output {
	out := output{
		Resources: map[string]map[string]json.RawMessage{},
		Invalid:   map[string]map[string]string{},
		Missing:   map[string][]string{},
		Responses: st.count,
		Errors:    []string{},
	}
	for _, typeURL := range typeOrder {
		t := st.types[typeURL]
		res := map[string]json.RawMessage{}
		bad := map[string]string{}
		for name, a := range t.resources {
			m, err := a.UnmarshalNew()
			if err != nil {
				bad[name] = "does not decode: " + err.Error()
				continue
			}
			if v, ok := m.(validator); ok {
				if err := v.ValidateAll(); err != nil {
					bad[name] = err.Error()
				}
			}
			j, err := protojson.Marshal(m)
			if err != nil {
				// Not the server's fault: a type this tool lacks. Said as an error, never as invalid.
				out.Errors = append(out.Errors, fmt.Sprintf("%s %s: cannot print: %v", typeURL, name, err))
				continue
			}
			res[name] = j
		}
		out.Resources[typeURL] = res
		if len(bad) > 0 {
			out.Invalid[typeURL] = bad
		}
		if !t.wildcard {
			for _, n := range t.names() {
				if _, ok := t.resources[n]; !ok {
					out.Missing[typeURL] = append(out.Missing[typeURL], n)
				}
			}
		}
	}
	return out
}
