// The number fields of each Istio kind's spec (istio.io/api protos), decoded as istiod's legacy jsonpb does
// before any validation: a field that is not a number of its type ("http" for a port, -1 for a uint32, 1.5
// for an int32) makes the whole object fail to decode, whether or not a rule reads that field.
import { isObj } from './core.js';
import { DecodeError, goNumber, type GoNumberType } from './decode.js';

/** `a.b[].c{}:uint32`: `[]` a repeated field's elements, `{}` a map's values. */
type Field = string;

const at = (prefix: string, fields: Field[]): Field[] => fields.map((f) => `${prefix}.${f}`);

const PORT_SELECTOR: Field[] = ['number:uint32'];
const DESTINATION: Field[] = at('port', PORT_SELECTOR);
const PERCENT: Field[] = ['value:float64'];
const ROUTE_DESTINATION: Field[] = [...at('destination', DESTINATION), 'weight:int32'];

const HTTP_ROUTE: Field[] = [
  'match[].port:uint32',
  ...at('route[]', ROUTE_DESTINATION),
  'redirect.port:uint32',
  'redirect.redirectCode:uint32',
  'directResponse.status:uint32',
  'retries.attempts:int32',
  'fault.delay.percent:int32',
  ...at('fault.delay.percentage', PERCENT),
  'fault.abort.httpStatus:int32',
  ...at('fault.abort.percentage', PERCENT),
  ...at('mirror', DESTINATION),
  ...at('mirrors[].destination', DESTINATION),
  ...at('mirrors[].percentage', PERCENT),
  'mirrorPercent:uint32',
  ...at('mirrorPercentage', PERCENT),
];

const CONNECTION_POOL: Field[] = [
  'tcp.maxConnections:int32',
  'tcp.tcpKeepalive.probes:uint32',
  'http.http1MaxPendingRequests:int32',
  'http.http2MaxRequests:int32',
  'http.maxRequestsPerConnection:int32',
  'http.maxRetries:int32',
  'http.maxConcurrentStreams:int32',
];

const PORT_POLICY: Field[] = [
  ...at('port', PORT_SELECTOR),
  ...at('connectionPool', CONNECTION_POOL),
  'outlierDetection.consecutiveErrors:int32',
  'outlierDetection.consecutiveLocalOriginFailures:uint32',
  'outlierDetection.consecutiveGatewayErrors:uint32',
  'outlierDetection.consecutive5xxErrors:uint32',
  'outlierDetection.maxEjectionPercent:int32',
  'outlierDetection.minHealthPercent:int32',
  'outlierDetection.outlierDetectionHttpErrorCodes[]:uint32',
  'loadBalancer.consistentHash.minimumRingSize:uint64',
  'loadBalancer.consistentHash.ringHash.minimumRingSize:uint64',
  'loadBalancer.consistentHash.maglev.tableSize:uint64',
  'loadBalancer.localityLbSetting.distribute[].to{}:uint32',
  'loadBalancer.zoneAwareLbSetting.minClusterSize:uint64',
  'loadBalancer.warmup.minimumPercent:float64',
  'loadBalancer.warmup.aggression:float64',
];

const TRAFFIC_POLICY: Field[] = [
  ...PORT_POLICY.filter((f) => !f.startsWith('port.')),
  ...at('portLevelSettings[]', PORT_POLICY),
  'tunnel.targetPort:uint32',
  'retryBudget.percent:float64',
  'retryBudget.minRetryConcurrency:uint32',
];

const PORT: Field[] = ['number:uint32', 'targetPort:uint32'];
const WORKLOAD_ENTRY: Field[] = ['ports{}:uint32', 'weight:uint32'];
const SELECTOR_PORTS: Field[] = ['match[].ports[].number:uint32'];

const FIELDS: Record<string, Field[]> = {
  VirtualService: [
    ...at('http[]', HTTP_ROUTE),
    'tls[].match[].port:uint32',
    ...at('tls[].route[]', ROUTE_DESTINATION),
    'tcp[].match[].port:uint32',
    ...at('tcp[].route[]', ROUTE_DESTINATION),
  ],
  DestinationRule: [...at('trafficPolicy', TRAFFIC_POLICY), ...at('subsets[].trafficPolicy', TRAFFIC_POLICY)],
  Gateway: at('servers[].port', PORT),
  Sidecar: [
    ...at('ingress[].port', PORT),
    ...at('ingress[].connectionPool', CONNECTION_POOL),
    ...at('egress[].port', PORT),
    ...at('inboundConnectionPool', CONNECTION_POOL),
    ...at('outboundTrafficPolicy.egressProxy', DESTINATION),
  ],
  ServiceEntry: [...at('ports[]', PORT), ...at('endpoints[]', WORKLOAD_ENTRY)],
  WorkloadEntry: WORKLOAD_ENTRY,
  WorkloadGroup: [
    ...at('template', WORKLOAD_ENTRY),
    ...['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'].map((f) => `probe.${f}:int32`),
    'probe.httpGet.port:uint32',
    'probe.grpc.port:uint32',
    'probe.tcpSocket.port:uint32',
  ],
  ProxyConfig: ['concurrency:int32'],
  Telemetry: ['tracing[].randomSamplingPercentage:float64'],
  WasmPlugin: ['priority:int32', ...SELECTOR_PORTS],
  TrafficExtension: ['priority:int32', ...SELECTOR_PORTS],
  EnvoyFilter: [
    'priority:int32',
    'configPatches[].match.listener.portNumber:uint32',
    'configPatches[].match.listener.filterChain.destinationPort:uint32',
    'configPatches[].match.routeConfiguration.portNumber:uint32',
    'configPatches[].match.cluster.portNumber:uint32',
    'configPatches[].match.waypoint.portNumber:uint32',
  ],
};

function jsonKind(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

/** encoding/json's refusal of a value that is not the object or array jsonpb reads a message or list into. */
function notA(goType: string, v: unknown): never {
  throw new DecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`);
}

const MESSAGE = 'map[string]json.RawMessage';

function walk(v: unknown, steps: string[], type: GoNumberType): void {
  if (v === undefined || v === null) return;
  if (steps.length === 0) return void goNumber(v, type);
  const [step, ...rest] = steps as [string, ...string[]];
  if (step === '[]') {
    if (!Array.isArray(v)) notA('[]json.RawMessage', v);
    // A null element of a repeated message is an empty message; of a repeated number, 0.
    for (const x of v) walk(x, rest, type);
  } else if (step === '{}') {
    if (!isObj(v)) notA(MESSAGE, v);
    for (const x of Object.values(v)) walk(x, rest, type);
  } else {
    if (!isObj(v)) notA(MESSAGE, v);
    // jsonpb takes a field by its JSON name or its proto name.
    const proto = step.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    walk(v[step], rest, type);
    if (proto !== step) walk(v[proto], rest, type);
  }
}

const PARSED = new Map<string, Array<{ steps: string[]; type: GoNumberType }>>(
  Object.entries(FIELDS).map(([kind, fields]) => [
    kind,
    fields.map((f) => {
      const [path, type] = f.split(':') as [string, GoNumberType];
      return { steps: path.split('.').flatMap((s) => s.split(/(?=\[\]|\{\})/)), type };
    }),
  ]),
);

/** Throws the DecodeError of the first number field of `spec` that does not decode; a repeated null is 0. */
export function decodeNumbers(kind: string, spec: unknown): void {
  for (const { steps, type } of PARSED.get(kind) ?? []) walk(spec, steps, type);
}
