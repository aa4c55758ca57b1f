// Command xdsdump is the conformance suites' xDS client: it connects to a control plane (meshd or istiod)
// as one proxy, subscribes the way that proxy would (an Envoy: CDS and LDS wildcard, then the EDS and RDS
// names they reference; a proxyless gRPC client: the named listeners, then their routes, clusters and
// endpoints), ACKs every response, and prints every resource it holds once the stream has been quiet for
// --settle, decoded with protojson (all Envoy and Istio extension types are linked in). Resources that
// fail Envoy's proto validation (the PGV rules Envoy checks before it accepts a response) are listed.
//
//	xdsdump --addr 127.0.0.1:15010 --node node.json --protocol delta|sotw --mode envoy|grpc
//	        [--listeners a:80,b:9080] [--settle 1s] [--timeout 30s]
//
// Output: {"resources": {typeURL: {name: resource}}, "invalid": {typeURL: {name: error}},
// "missing": {typeURL: [names subscribed but never sent]}, "responses": N, "errors": [...]}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	// Register every Envoy and Istio extension type and the TypedStruct wrappers istiod uses, so typed
	// configs inside Any decode.
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"
	_ "istio.io/api/envoy/extensions/stats"
	_ "istio.io/istio/pkg/config/xds"
)

func main() {
	addr := flag.String("addr", "", "control plane address (plaintext gRPC)")
	nodeFile := flag.String("node", "", "Envoy core.v3.Node as protojson")
	protocol := flag.String("protocol", "delta", "delta or sotw")
	mode := flag.String("mode", "envoy", "envoy (wildcard CDS/LDS) or grpc (named listeners)")
	listeners := flag.String("listeners", "", "grpc mode: comma-separated listener names")
	settle := flag.Duration("settle", time.Second, "quiet time after the last response before printing")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if err := run(*addr, *nodeFile, *protocol, *mode, *listeners, *settle, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "xdsdump:", err)
		os.Exit(1)
	}
}

func run(addr, nodeFile, protocol, mode, listeners string, settle, timeout time.Duration) error {
	raw, err := os.ReadFile(nodeFile)
	if err != nil {
		return err
	}
	node := &core.Node{}
	if err := protojson.Unmarshal(raw, node); err != nil {
		return fmt.Errorf("%s: %w", nodeFile, err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st := newState(mode, splitNames(listeners))
	var stream streamer
	switch protocol {
	case "delta":
		stream, err = openDelta(ctx, conn, node)
	case "sotw":
		stream, err = openSotw(ctx, conn, node)
	default:
		return fmt.Errorf("unknown protocol %q", protocol)
	}
	if err != nil {
		return err
	}
	loopErr := loop(ctx, stream, st, settle)
	out := st.output()
	if loopErr != nil {
		out.Errors = append(out.Errors, loopErr.Error())
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

func splitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// loop keeps the stream going until it has been quiet for settle with every subscription answered (or
// for three settles, when a server never answers names it does not have), or the context ends; what
// arrived so far is printed either way.
func loop(ctx context.Context, stream streamer, st *state, settle time.Duration) error {
	if err := stream.update(st); err != nil {
		return err
	}
	type received struct {
		resp response
		err  error
	}
	responses := make(chan received, 16)
	go func() {
		for {
			r, err := stream.recv()
			responses <- received{r, err}
			if err != nil {
				return
			}
		}
	}()
	quiet := time.NewTimer(settle)
	quietSince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out: %v", ctx.Err())
		case r := <-responses:
			if r.err != nil {
				return r.err
			}
			if err := stream.apply(st, r.resp); err != nil {
				return err
			}
			if err := stream.update(st); err != nil {
				return err
			}
			quiet.Reset(settle)
			quietSince = time.Now()
		case <-quiet.C:
			if !st.pending() || time.Since(quietSince) >= 3*settle {
				return nil
			}
			quiet.Reset(settle)
		}
	}
}
