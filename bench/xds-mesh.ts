// The xDS benches' mesh: `services` gRPC services in one namespace, each with two endpoints (pods of
// versions v1 and v2), a DestinationRule with a subset per version and a weighted VirtualService.
export const NS = 'bench';

/** The address of service i's endpoint j (pod `svc-i-v{j+1}`); unique for up to 32,768 services. */
export const endpointIp = (i: number, j: number): string => `10.200.${i & 255}.${(i >> 8) * 2 + j}`;

export function meshObjects(services: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    out.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'grpc', port: 8080 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [{ name: 'grpc', port: 8080 }],
        endpoints: ['v1', 'v2'].map((v, j) => ({ addresses: [endpointIp(i, j)], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-${v}`, namespace: NS } })),
      },
      ...['v1', 'v2'].map((v) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-${v}`, namespace: NS, labels: { app: name, version: v } }, spec: {} })),
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: NS }, spec: { host: name, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
    );
  }
  return out;
}

export function virtualService(i: number, weightV1: number): object {
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `svc-${i}`, namespace: NS },
    spec: { hosts: [`svc-${i}`], http: [{ route: [{ destination: { host: `svc-${i}`, subset: 'v1' }, weight: weightV1 }, { destination: { host: `svc-${i}`, subset: 'v2' }, weight: 100 - weightV1 }] }] },
  };
}

export const routing = (services: number, weightV1: (i: number) => number): object[] =>
  Array.from({ length: services }, (_, i) => virtualService(i, weightV1(i)));
