// Who is on the other end of a stream: istiod's ParseServiceNodeWithMetadata over the xDS node
// (`<type>~<ip>~<pod>.<namespace>~<domain>` plus metadata such as GENERATOR, NAMESPACE and LABELS).
import type { ProxyInfo } from '../types.js';

type StructValue = { nullValue?: unknown; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: { fields?: Record<string, StructValue> }; listValue?: { values?: StructValue[] } };

/** google.protobuf.Struct (as protobufjs decodes it: its bundled well-known types keep camelCase names) back to plain JSON. */
export function fromStruct(s: { fields?: Record<string, StructValue> } | undefined): Record<string, unknown> {
  const value = (v: StructValue): unknown => {
    if (v.stringValue !== undefined) return v.stringValue;
    if (v.numberValue !== undefined) return v.numberValue;
    if (v.boolValue !== undefined) return v.boolValue;
    if (v.structValue !== undefined) return fromStruct(v.structValue);
    if (v.listValue !== undefined) return (v.listValue.values ?? []).map(value);
    return null;
  };
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, value(v)]));
}

export class NodeError extends Error {}

export function parseProxy(node: { id?: string; metadata?: { fields?: Record<string, StructValue> } } | undefined | null): ProxyInfo {
  const id = node?.id ?? '';
  if (!id) throw new NodeError('missing node id');
  const parts = id.split('~');
  if (parts.length !== 4) throw new NodeError(`missing parts in the service node ${JSON.stringify(id)}`);
  const [type, ip, pod] = parts as [string, string, string, string];
  if (type !== 'sidecar' && type !== 'router') throw new NodeError(`invalid node type (valid types: sidecar, router) in the service node ${JSON.stringify(id)}`);
  const metadata = fromStruct(node?.metadata);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((metadata.LABELS ?? {}) as Record<string, unknown>)) if (typeof v === 'string') labels[k] = v;
  const dot = pod.indexOf('.');
  const namespace = typeof metadata.NAMESPACE === 'string' && metadata.NAMESPACE ? metadata.NAMESPACE : dot >= 0 ? pod.slice(dot + 1) : 'default';
  const ips = typeof metadata.INSTANCE_IPS === 'string' ? metadata.INSTANCE_IPS.split(',') : [];
  const serviceAccount = typeof metadata.SERVICE_ACCOUNT === 'string' && metadata.SERVICE_ACCOUNT ? metadata.SERVICE_ACCOUNT : undefined;
  return { id, type, ip: ip || ips[0] || '', podName: dot >= 0 ? pod.slice(0, dot) : pod, namespace, labels, proxyless: metadata.GENERATOR === 'grpc', metadata, serviceAccount };
}
