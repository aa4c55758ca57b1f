// The service registry: Kubernetes Services + EndpointSlices (+ the Pods and Nodes they point at) and
// Istio ServiceEntries + WorkloadEntries, turned into one list of mesh services and their endpoints.
// Pure: it reads plain objects and returns plain data, whichever source (API watches or files) fed them.
import type { KubeObject } from '../kube/store.js';
import type { Locality, MeshEndpoint, MeshService, PortProtocol, ServicePort } from '../types.js';
import { list, obj, stringList, type Obj } from '../validation/core.js';

export interface RegistryInput {
  services: KubeObject[];
  endpointSlices: KubeObject[];
  pods: KubeObject[];
  nodes: KubeObject[];
  serviceEntries: KubeObject[];
  workloadEntries: KubeObject[];
  domainSuffix: string;
}

export interface Registry {
  services: MeshService[];
  /** Key `${hostname}|${namespace}`. */
  endpoints: Map<string, MeshEndpoint[]>;
}

export const registryKey = (hostname: string, namespace: string): string => `${hostname}|${namespace}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
};
const meta = (o: KubeObject): Obj => obj(o.metadata);
const nsOf = (o: KubeObject): string => str(meta(o).namespace) ?? 'default';
const nameOf = (o: KubeObject): string => str(meta(o).name) ?? '';

const PROTOCOLS: Record<string, PortProtocol> = {
  http: 'HTTP', http2: 'HTTP2', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', https: 'HTTPS', tls: 'TLS', tcp: 'TCP',
  mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL', udp: 'UDP',
  'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS',
};

/** Istio's port protocol: appProtocol first, else the port name up to the first '-' (kube.ConvertProtocol). */
export function portProtocol(name: string, l4: string | undefined, appProtocol: string | undefined): PortProtocol {
  if (l4 === 'UDP') return 'UDP';
  if (appProtocol) {
    const p = PROTOCOLS[appProtocol.toLowerCase()];
    if (p) return p;
  }
  const prefix = name.toLowerCase().split('-')[0] ?? '';
  return PROTOCOLS[prefix] ?? 'UNSUPPORTED';
}

/** Istio's own protocol names (ServiceEntry ports) are case-insensitive. */
function istioProtocol(p: string | undefined): PortProtocol {
  if (!p) return 'UNSUPPORTED';
  return PROTOCOLS[p.toLowerCase()] ?? 'UNSUPPORTED';
}

function exportToAnnotation(o: KubeObject): string[] {
  const v = strMap(meta(o).annotations)['networking.istio.io/exportTo'];
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : ['*'];
}

/** `region/zone/subzone` as Istio writes it in the istio-locality label and WorkloadEntry.locality. */
export function parseLocality(s: string | undefined): Locality {
  const [region = '', zone = '', subzone = ''] = (s ?? '').split('/');
  return { region, zone, subzone };
}

function nodeLocality(node: KubeObject | undefined): Locality {
  const l = strMap(meta(node ?? {}).labels);
  return {
    region: l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '',
    zone: l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '',
    subzone: l['topology.istio.io/subzone'] ?? '',
  };
}

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function podTlsMode(labels: Record<string, string>, annotations: Record<string, string>): string {
  return labels['security.istio.io/tlsMode'] ?? (annotations['sidecar.istio.io/status'] ? 'istio' : 'disabled');
}

function kubeService(o: KubeObject, domainSuffix: string): MeshService {
  const spec = obj(o.spec);
  const ip = str(spec.clusterIP);
  const ips = stringList(spec.clusterIPs);
  const addresses = (ips.length ? ips : ip ? [ip] : []).filter((a) => a !== 'None');
  const ports: ServicePort[] = list(spec.ports).map((p) => {
    const po = obj(p);
    const name = str(po.name) ?? '';
    const port = num(po.port) ?? 0;
    return { name, port, protocol: portProtocol(name, str(po.protocol), str(po.appProtocol)), targetPort: num(po.targetPort) ?? (po.targetPort === undefined ? port : undefined) };
  });
  const external = str(spec.externalName);
  return {
    hostname: `${nameOf(o)}.${nsOf(o)}.svc.${domainSuffix}`,
    namespace: nsOf(o),
    name: nameOf(o),
    addresses,
    ports,
    labels: strMap(meta(o).labels),
    exportTo: exportToAnnotation(o),
    resolution: external ? 'DNS' : 'EDS',
    external: false,
    selector: spec.selector ? strMap(spec.selector) : undefined,
  };
}

interface SliceEndpoint {
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  pod?: KubeObject;
  nodeName?: string;
  zone?: string;
}

/** One EndpointSlice's endpoints (v1 or v1beta1, which kept the zone in `topology`). */
function sliceEndpoints(slice: KubeObject, pods: Map<string, KubeObject>): SliceEndpoint[] {
  const out: SliceEndpoint[] = [];
  for (const e of list((slice as Obj).endpoints)) {
    const eo = obj(e);
    const cond = obj(eo.conditions);
    const ref = obj(eo.targetRef);
    const pod = str(ref.kind) === 'Pod' ? pods.get(`${str(ref.namespace) ?? nsOf(slice)}/${str(ref.name)}`) : undefined;
    const topology = strMap(eo.topology);
    const ready = cond.ready !== false;
    for (const address of list(eo.addresses)) {
      if (typeof address !== 'string') continue;
      out.push({
        address,
        ready,
        serving: cond.serving === undefined ? ready : cond.serving === true,
        terminating: cond.terminating === true,
        pod,
        nodeName: str(eo.nodeName) ?? topology['kubernetes.io/hostname'] ?? str(obj(pod?.spec).nodeName),
        zone: str(eo.zone) ?? topology['topology.kubernetes.io/zone'],
      });
    }
  }
  return out;
}

function kubeEndpoints(svc: MeshService, slices: KubeObject[], pods: Map<string, KubeObject>, nodes: Map<string, KubeObject>): MeshEndpoint[] {
  const out: MeshEndpoint[] = [];
  for (const slice of slices) {
    const slicePorts = list((slice as Obj).ports).map(obj);
    const endpoints = sliceEndpoints(slice, pods);
    for (const sp of svc.ports) {
      const port = slicePorts.find((p) => (str(p.name) ?? '') === sp.name);
      const target = num(port?.port);
      if (target === undefined) continue;
      for (const e of endpoints) {
        if (!e.ready && !(e.serving && e.terminating)) continue; // not-ready endpoints get no traffic
        const podMeta = meta(e.pod ?? {});
        const labels = strMap(podMeta.labels);
        const locality = labels['istio-locality'] ? parseLocality(labels['istio-locality'].replace(/\./g, '/')) : nodeLocality(e.nodeName ? nodes.get(e.nodeName) : undefined);
        if (!locality.zone && e.zone) locality.zone = e.zone;
        out.push({
          hostname: svc.hostname,
          namespace: svc.namespace,
          servicePort: sp.port,
          address: e.address,
          port: target,
          labels,
          serviceAccount: str(obj(e.pod?.spec).serviceAccountName) ?? (e.pod ? 'default' : undefined),
          locality,
          health: e.ready ? 'HEALTHY' : 'DRAINING',
          tlsMode: podTlsMode(labels, strMap(podMeta.annotations)),
        });
      }
    }
  }
  return out;
}

interface WorkloadSpec {
  address: string;
  ports: Record<string, number>;
  labels: Record<string, string>;
  locality: Locality;
  weight?: number;
  serviceAccount?: string;
}

function workloadSpec(spec: Obj): WorkloadSpec | undefined {
  const address = str(spec.address);
  if (!address) return undefined;
  const ports: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(spec.ports))) if (typeof v === 'number') ports[k] = v;
  return { address, ports, labels: strMap(spec.labels), locality: parseLocality(str(spec.locality)), weight: num(spec.weight), serviceAccount: str(spec.serviceAccount) };
}

function workloadEndpoint(svc: MeshService, sp: ServicePort, w: WorkloadSpec): MeshEndpoint {
  return {
    hostname: svc.hostname,
    namespace: svc.namespace,
    servicePort: sp.port,
    address: w.address,
    port: w.ports[sp.name] ?? sp.targetPort ?? sp.port,
    labels: w.labels,
    serviceAccount: w.serviceAccount,
    locality: w.locality,
    health: 'HEALTHY',
    weight: w.weight,
    tlsMode: w.labels['security.istio.io/tlsMode'] ?? 'istio',
  };
}

const RESOLUTIONS: Record<string, MeshService['resolution']> = { NONE: 'PASSTHROUGH', STATIC: 'STATIC', DNS: 'DNS', DNS_ROUND_ROBIN: 'DNS' };

function serviceEntryServices(se: KubeObject): MeshService[] {
  const spec = obj(se.spec);
  const ports: ServicePort[] = list(spec.ports).map((p) => {
    const po = obj(p);
    return { name: str(po.name) ?? '', port: num(po.number) ?? 0, protocol: istioProtocol(str(po.protocol)), targetPort: num(po.targetPort) };
  });
  const exportTo = stringList(spec.exportTo);
  return stringList(spec.hosts).map((host) => ({
    hostname: host,
    namespace: nsOf(se),
    name: nameOf(se),
    addresses: stringList(spec.addresses),
    ports,
    labels: strMap(meta(se).labels),
    exportTo: exportTo.length ? exportTo : ['*'],
    resolution: RESOLUTIONS[str(spec.resolution) ?? 'NONE'] ?? 'PASSTHROUGH',
    external: str(spec.location) !== 'MESH_INTERNAL',
    selector: spec.workloadSelector ? strMap(obj(spec.workloadSelector).labels) : undefined,
  }));
}

export function buildRegistry(input: RegistryInput): Registry {
  const pods = new Map(input.pods.map((p) => [`${nsOf(p)}/${nameOf(p)}`, p]));
  const nodes = new Map(input.nodes.map((n) => [nameOf(n), n]));
  const slicesByService = new Map<string, KubeObject[]>();
  for (const s of input.endpointSlices) {
    const svc = strMap(meta(s).labels)['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${nsOf(s)}/${svc}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
  }
  const workloadEntries = input.workloadEntries.map((we) => ({ ns: nsOf(we), spec: workloadSpec(obj(we.spec)) }));
  const selectWorkloads = (svc: MeshService): WorkloadSpec[] =>
    svc.selector && Object.keys(svc.selector).length
      ? workloadEntries.filter((w) => w.ns === svc.namespace && w.spec && labelsMatch(svc.selector!, w.spec.labels)).map((w) => w.spec!)
      : [];

  const services: MeshService[] = [];
  const endpoints = new Map<string, MeshEndpoint[]>();
  for (const o of input.services) {
    const svc = kubeService(o, input.domainSuffix);
    services.push(svc);
    const eps = kubeEndpoints(svc, slicesByService.get(`${svc.namespace}/${svc.name}`) ?? [], pods, nodes);
    // Istio lets a Kubernetes Service select WorkloadEntries (VMs) in its namespace too.
    for (const w of selectWorkloads(svc)) for (const sp of svc.ports) eps.push(workloadEndpoint(svc, sp, w));
    endpoints.set(registryKey(svc.hostname, svc.namespace), eps);
  }
  for (const se of input.serviceEntries) {
    const inline = list(obj(se.spec).endpoints).map((e) => workloadSpec(obj(e))).filter((w): w is WorkloadSpec => w !== undefined);
    for (const svc of serviceEntryServices(se)) {
      services.push(svc);
      const eps: MeshEndpoint[] = [];
      for (const w of [...inline, ...selectWorkloads(svc)]) for (const sp of svc.ports) eps.push(workloadEndpoint(svc, sp, w));
      if (svc.selector) {
        for (const p of pods.values()) {
          const labels = strMap(meta(p).labels);
          const ip = str(obj(p.status).podIP);
          if (nsOf(p) !== svc.namespace || !ip || !labelsMatch(svc.selector, labels)) continue;
          const podWorkload: WorkloadSpec = { address: ip, ports: {}, labels, locality: nodeLocality(nodes.get(str(obj(p.spec).nodeName) ?? '')), serviceAccount: str(obj(p.spec).serviceAccountName) ?? 'default' };
          for (const sp of svc.ports) eps.push({ ...workloadEndpoint(svc, sp, podWorkload), tlsMode: podTlsMode(labels, strMap(meta(p).annotations)) });
        }
      }
      // A DNS entry without endpoints resolves the host itself.
      if (svc.resolution === 'DNS' && eps.length === 0) for (const sp of svc.ports) eps.push(workloadEndpoint(svc, sp, { address: svc.hostname, ports: {}, labels: {}, locality: parseLocality(''), serviceAccount: undefined }));
      endpoints.set(registryKey(svc.hostname, svc.namespace), eps);
    }
  }
  return { services, endpoints };
}
