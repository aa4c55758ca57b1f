package main

import (
	"context"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
)

// response is one server message of either protocol.
type response interface{}

// streamer is one ADS stream: recv runs on its own goroutine; apply and update on the main one.
type streamer interface {
	recv() (response, error)
	apply(st *state, r response) error
	update(st *state) error
}

// deltaStream speaks incremental xDS: subscriptions change by difference, every response is ACKed.
type deltaStream struct {
	node   *core.Node
	stream discovery.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

func openDelta(ctx context.Context, conn *grpc.ClientConn, node *core.Node) (streamer, error) {
	s, err := discovery.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	return &deltaStream{node: node, stream: s}, err
}

func (d *deltaStream) recv() (response, error) { return d.stream.Recv() }

func (d *deltaStream) apply(st *state, r response) error {
	resp := r.(*discovery.DeltaDiscoveryResponse)
	var res []*anypb.Any
	var names []string
	for _, x := range resp.GetResources() {
		res = append(res, x.GetResource())
		names = append(names, x.GetName())
	}
	st.store(resp.GetTypeUrl(), res, names, resp.GetRemovedResources(), false)
	return d.stream.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()})
}

func (d *deltaStream) update(st *state) error {
	return st.eachChange(func(typeURL string, t *typeState, sub, unsub []string) error {
		req := &discovery.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: sub,
			ResourceNamesUnsubscribe: unsub}
		if !t.started {
			req.Node = d.node
		}
		if err := d.stream.Send(req); err != nil {
			return err
		}
		for _, n := range sub {
			t.sent[n] = true
		}
		for _, n := range unsub {
			delete(t.sent, n)
		}
		return nil
	})
}

// sotwStream speaks state-of-the-world xDS: every request names the whole set, ACKs carry the version.
type sotwStream struct {
	node   *core.Node
	stream discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient
}

func openSotw(ctx context.Context, conn *grpc.ClientConn, node *core.Node) (streamer, error) {
	s, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	return &sotwStream{node: node, stream: s}, err
}

func (s *sotwStream) recv() (response, error) { return s.stream.Recv() }

func (s *sotwStream) apply(st *state, r response) error {
	resp := r.(*discovery.DiscoveryResponse)
	t := st.types[resp.GetTypeUrl()]
	var names []string
	for _, a := range resp.GetResources() {
		names = append(names, resourceName(a))
	}
	st.store(resp.GetTypeUrl(), resp.GetResources(), names, nil, true)
	if t == nil {
		return nil
	}
	t.version, t.nonce = resp.GetVersionInfo(), resp.GetNonce()
	t.sent = map[string]bool{}
	for _, n := range t.names() {
		t.sent[n] = true
	}
	return s.stream.Send(&discovery.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), VersionInfo: t.version,
		ResponseNonce: t.nonce, ResourceNames: s.requested(t)})
}

func (s *sotwStream) requested(t *typeState) []string {
	if t.wildcard {
		return nil
	}
	return t.names()
}

func (s *sotwStream) update(st *state) error {
	return st.eachChange(func(typeURL string, t *typeState, _, _ []string) error {
		req := &discovery.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: t.version, ResponseNonce: t.nonce,
			ResourceNames: s.requested(t)}
		if !t.started {
			req.Node = s.node
		}
		if err := s.stream.Send(req); err != nil {
			return err
		}
		t.sent = map[string]bool{}
		for _, n := range t.names() {
			t.sent[n] = true
		}
		return nil
	})
}

// resourceName reads the name of a SotW resource (its type's name field).
func resourceName(a *anypb.Any) string {
	m, err := a.UnmarshalNew()
	if err != nil {
		return ""
	}
	type named interface{ GetName() string }
	type clusterNamed interface{ GetClusterName() string }
	switch v := m.(type) {
	case named:
		return v.GetName()
	case clusterNamed:
		return v.GetClusterName()
	}
	return ""
}
