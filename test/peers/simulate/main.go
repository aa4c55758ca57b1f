// Command simulate runs Istio's xDS traffic simulator (istio.io/istio/pilot/pkg/simulation, the one
// Istio's *_simulation_test.go files use) over a dump of a control plane's Envoy resources, for calls
// given as data, and prints what each call matched. It can also run the xdstest validations those tests
// run afterwards.
//
//	simulate --resources dump.json --calls calls.json [--validate clusters,listeners,routeConfigurations]
//
// dump.json is xdsdump's output: {"resources": {typeURL: {name: resource as protojson}}} (with or without
// "@type").
// calls.json is a list of simulation.Call in JSON (Go field names: Address, Port, Protocol, TLS, Alpn,
// HostHeader, Sni, Path, CallMode, MtlsSecretConfigName), each optionally with "filterChainValidations".
// Absent fields keep their zero value, so Call.FillDefaults (run by Simulation.Run) supplies them.
//
// Output: {"results": [{"call": effective call, "error", "listener", "filterChain", "routeConfig",
// "virtualHost", "route", "cluster"}], "validation": {kind: [errors]}}. error is "" when the call
// succeeded. A call that makes the simulator panic (it calls its nil *testing.T on malformed input)
// reports the panic as its error.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tls "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xdstest"
	istiolog "istio.io/istio/pkg/log"
	// Registers every Envoy and Istio extension type, so typed configs inside Any decode.
	_ "istio.io/istio/pkg/config/xds"
)

const (
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	routeType    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
)

// chainCheck is one expectation on the matched filter chain's DownstreamTlsContext (the data form of a
// simulation.CustomFilterChainValidation).
type chainCheck struct {
	Description                         string  `json:"description"`
	TransportSocket                     string  `json:"transportSocket"`
	TLSCertificateSdsSecretConfigs0Name *string `json:"tlsCertificateSdsSecretConfigs0Name"`
	RequireClientCertificate            *bool   `json:"requireClientCertificate"`
}

type callInput struct {
	simulation.Call
	FilterChainValidations []chainCheck `json:"filterChainValidations"`
}

// effectiveCall is the call after Call.FillDefaults, as the report shows it.
type effectiveCall struct {
	Address              string `json:"address"`
	Port                 int    `json:"port"`
	Protocol             string `json:"protocol"`
	TLS                  string `json:"tls"`
	Alpn                 string `json:"alpn,omitempty"`
	Sni                  string `json:"sni,omitempty"`
	Host                 string `json:"host,omitempty"`
	Path                 string `json:"path"`
	Mode                 string `json:"mode,omitempty"`
	MtlsSecretConfigName string `json:"mtlsSecretConfigName,omitempty"`
}

type result struct {
	Call        effectiveCall `json:"call"`
	Error       string        `json:"error"`
	Listener    string        `json:"listener"`
	FilterChain string        `json:"filterChain"`
	RouteConfig string        `json:"routeConfig"`
	VirtualHost string        `json:"virtualHost"`
	Route       string        `json:"route"`
	Cluster     string        `json:"cluster"`
}

type output struct {
	Results    []result            `json:"results"`
	Validation map[string][]string `json:"validation,omitempty"`
}

func main() {
	resources := flag.String("resources", "", "xdsdump output (JSON)")
	calls := flag.String("calls", "", "JSON list of calls")
	validate := flag.String("validate", "", "comma-separated: clusters, listeners, routeConfigurations")
	flag.Parse()
	// Istio's logs (the simulator warns about every chain of an ambiguous match) go to stderr: stdout is the JSON.
	logs := istiolog.DefaultOptions()
	logs.OutputPaths = []string{"stderr"}
	if err := istiolog.Configure(logs); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
	if err := run(*resources, *calls, *validate); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

func run(resourcesFile, callsFile, validate string) error {
	sim, err := loadSimulation(resourcesFile)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(callsFile)
	if err != nil {
		return err
	}
	var inputs []callInput
	if err := json.Unmarshal(raw, &inputs); err != nil {
		return fmt.Errorf("%s: %w", callsFile, err)
	}
	out := output{Results: make([]result, 0, len(inputs))}
	for _, in := range inputs {
		out.Results = append(out.Results, runCall(sim, in))
	}
	if validate != "" {
		out.Validation = map[string][]string{}
		for _, kind := range strings.Split(validate, ",") {
			out.Validation[kind] = runValidation(sim, kind)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

// loadSimulation decodes the dump's listeners, clusters and route configurations, each kind sorted by
// name (the dump is a map; the simulator takes the first listener that matches an address).
func loadSimulation(file string) (*simulation.Simulation, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var dump struct {
		Resources map[string]map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sim := &simulation.Simulation{}
	for _, typeURL := range []string{listenerType, clusterType, routeType} {
		byName := dump.Resources[typeURL]
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			msg, err := decode(typeURL, byName[n])
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", typeURL, n, err)
			}
			switch m := msg.(type) {
			case *listener.Listener:
				sim.Listeners = append(sim.Listeners, m)
			case *cluster.Cluster:
				sim.Clusters = append(sim.Clusters, m)
			case *route.RouteConfiguration:
				sim.Routes = append(sim.Routes, m)
			default:
				return nil, fmt.Errorf("%s %s: decoded as %T", typeURL, n, msg)
			}
		}
	}
	return sim, nil
}

// decode takes a resource as protojson of its Any (with "@type") or of the message itself.
func decode(typeURL string, raw json.RawMessage) (proto.Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	if _, ok := fields["@type"]; ok {
		a := &anypb.Any{}
		if err := protojson.Unmarshal(raw, a); err != nil {
			return nil, err
		}
		return a.UnmarshalNew()
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return nil, err
	}
	m := mt.New().Interface()
	return m, protojson.Unmarshal(raw, m)
}

func runCall(sim *simulation.Simulation, in callInput) (res result) {
	call := in.Call
	for _, c := range in.FilterChainValidations {
		call.CustomListenerValidations = append(call.CustomListenerValidations, c.validate)
	}
	d := in.Call.FillDefaults()
	res.Call = effectiveCall{d.Address, d.Port, string(d.Protocol), string(d.TLS), d.Alpn, d.Sni, d.HostHeader, d.Path,
		string(d.CallMode), d.MtlsSecretConfigName}
	defer func() {
		if p := recover(); p != nil {
			res.Error = fmt.Sprintf("simulator panicked: %v", p)
		}
	}()
	r := sim.Run(call)
	if r.Error != nil {
		res.Error = r.Error.Error()
	}
	res.Listener, res.FilterChain, res.RouteConfig = r.ListenerMatched, r.FilterChainMatched, r.RouteConfigMatched
	res.VirtualHost, res.Route, res.Cluster = r.VirtualHostMatched, r.RouteMatched, r.ClusterMatched
	return res
}

func (c chainCheck) validate(fc *listener.FilterChain) error {
	typed := fc.GetTransportSocket().GetTypedConfig()
	if typed == nil {
		if c.TransportSocket == "required" {
			return fmt.Errorf("filter chain %v has no transport socket", fc.GetName())
		}
		return nil
	}
	ctx := &tls.DownstreamTlsContext{}
	if err := typed.UnmarshalTo(ctx); err != nil {
		return err
	}
	if want := c.TLSCertificateSdsSecretConfigs0Name; want != nil {
		sds := ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
		if len(sds) == 0 {
			return fmt.Errorf("filter chain %v has no TLS certificate SDS config", fc.GetName())
		}
		if sds[0].GetName() != *want {
			return fmt.Errorf("filter chain %v: TLS certificate %q, want %q", fc.GetName(), sds[0].GetName(), *want)
		}
	}
	if want := c.RequireClientCertificate; want != nil && ctx.GetRequireClientCertificate().GetValue() != *want {
		return fmt.Errorf("filter chain %v: requireClientCertificate %v, want %v", fc.GetName(),
			ctx.GetRequireClientCertificate().GetValue(), *want)
	}
	return nil
}

// recorder collects what xdstest's validations report. It embeds testing.TB only to satisfy the
// interface (its private method); every method the validations call is overridden.
type recorder struct {
	testing.TB
	errors []string
}

type fatal struct{}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) { r.add(fmt.Sprintf(format, args...)) }

func (r *recorder) Error(args ...any) { r.add(fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.add(fmt.Sprintf(format, args...))
	panic(fatal{})
}

func (r *recorder) Fatal(args ...any) {
	r.add(fmt.Sprint(args...))
	panic(fatal{})
}

func (r *recorder) Logf(string, ...any) {}

func (r *recorder) Log(...any) {}

// add keeps the first line of a message, shortened: many messages append a whole listener dump.
func (r *recorder) add(msg string) {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " ..."
	}
	if len(msg) > 300 {
		msg = msg[:300] + " ..."
	}
	r.errors = append(r.errors, msg)
}

func runValidation(sim *simulation.Simulation, kind string) (errs []string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatal); !ok {
				r.add(fmt.Sprintf("validation panicked: %v", p))
			}
		}
		errs = r.errors
		if errs == nil {
			errs = []string{}
		}
	}()
	switch kind {
	case "clusters":
		xdstest.ValidateClusters(r, sim.Clusters)
	case "listeners":
		xdstest.ValidateListeners(r, sim.Listeners)
	case "routeConfigurations":
		xdstest.ValidateRouteConfigurations(r, sim.Routes)
	default:
		r.add(fmt.Sprintf("unknown validation %q", kind))
	}
	return errs
}
