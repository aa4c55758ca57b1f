// Kubernetes objects describing test backends on 127.0.0.1, as meshd's local mode reads them: a
// Service, one Pod per backend (labels, service account) and one EndpointSlice per backend (each
// listens on its own port, and a slice carries one port set).
import { stringify } from 'yaml';

export interface Workload {
  name: string;
  labels: Record<string, string>;
  port: number;
  address?: string;
}

export function service(name: string, namespace: string, port: number, selector: Record<string, string>, portName = 'grpc'): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { clusterIP: '10.96.0.10', selector, ports: [{ name: portName, port, targetPort: port, protocol: 'TCP' }] },
  };
}

export function workloadObjects(svc: string, namespace: string, w: Workload, portName = 'grpc'): object[] {
  return [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: w.name, namespace, labels: w.labels }, spec: { serviceAccountName: w.name, containers: [{ name: 'app', image: 'echo' }] }, status: { podIP: w.address ?? '127.0.0.1' } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${svc}-${w.name}`, namespace, labels: { 'kubernetes.io/service-name': svc } },
      addressType: 'IPv4',
      ports: [{ name: portName, port: w.port, protocol: 'TCP' }],
      endpoints: [{ addresses: [w.address ?? '127.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: w.name, namespace }, zone: 'zone-a' }],
    },
  ];
}

/** YAML that means the same to a YAML 1.1 reader (Kubernetes', and meshd's): `yes` stays a string. */
export const toYaml = (objects: object[]): string => objects.map((o) => stringify(o, { version: '1.1' })).join('---\n');
