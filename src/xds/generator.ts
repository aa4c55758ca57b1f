// Chooses the generator for a proxy (proxyless gRPC or Envoy) and encodes each resource once per
// PushContext: every stream that asks for the same resource in the same scope shares the bytes.
import { createHash } from 'node:crypto';
import type { ProxyInfo } from '../types.js';
import type { Msg } from './gen/common.js';
import { generateGrpc, SERVER_LISTENER_PREFIX } from './gen/grpc.js';
import { generateEnvoy } from './gen/envoy.js';
import { encodeMessage, TYPE } from './protos.js';
import type { PushContext } from './push-context.js';

export interface Resource {
  name: string;
  typeUrl: string;
  /** The generated object, kept for /debug/config_dump. */
  object: Msg;
  bytes: Uint8Array;
  /** A content hash: the per-resource version for Delta xDS. */
  hash: string;
}

export interface GenerateError {
  typeUrl: string;
  name: string;
  error: string;
}

const resourceName = (o: Msg): string => String(o.name ?? o.cluster_name ?? '');

/** Types whose subscriptions may be wildcard and whose responses are full state (istiod's IsWildcardTypeURL). */
export const isWildcardType = (typeUrl: string): boolean => typeUrl === TYPE.cluster || typeUrl === TYPE.listener;

/** Push order: make before break (clusters, endpoints, listeners, routes, secrets, others). */
export const PUSH_ORDER: string[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.secret];
export function pushOrder(types: Iterable<string>): string[] {
  const rank = (t: string): number => (PUSH_ORDER.includes(t) ? PUSH_ORDER.indexOf(t) : PUSH_ORDER.length);
  return [...types].sort((a, b) => rank(a) - rank(b));
}

/** What a proxy's generated output depends on besides the resource name (secrets: also who it verifiably is). */
function scopeOf(proxy: ProxyInfo, typeUrl: string): string {
  const who = typeUrl === TYPE.secret ? `|${proxy.verifiedIdentity?.namespace ?? '-'}` : '';
  if (proxy.proxyless) return `grpc|${proxy.namespace}${who}`;
  return `${proxy.type}|${proxy.namespace}|${proxy.ip}|${JSON.stringify(proxy.labels)}${who}`;
}

export class ResourceGenerator {
  private readonly cache = new Map<string, Resource | null>();
  private readonly lists = new Map<string, Resource[]>();
  /** Encoded resources by their generated JSON: most survive a push unchanged, and encoding costs ~5x the JSON. */
  readonly encoded = new Map<string, Resource>();

  /** `previous`: the generator of the last PushContext, whose encodings are reused where nothing changed. */
  constructor(readonly ctx: PushContext, private readonly onError: (e: GenerateError) => void, private previous?: ResourceGenerator) {}

  /** Drops the link to the generator before this one, so a chain of pushes does not keep every past one alive. */
  forgetPrevious(): void {
    this.previous = undefined;
  }

  private encode(typeUrl: string, object: Msg): Resource | null {
    const name = resourceName(object);
    const key = `${typeUrl}\0${JSON.stringify(object)}`;
    const known = this.encoded.get(key) ?? this.previous?.encoded.get(key);
    if (known) {
      this.encoded.set(key, known);
      return known;
    }
    try {
      const bytes = encodeMessage(typeUrl, object);
      const r = { name, typeUrl, object, bytes, hash: createHash('sha1').update(bytes).digest('base64url').slice(0, 16) };
      this.encoded.set(key, r);
      return r;
    } catch (e) {
      this.onError({ typeUrl, name, error: (e as Error).message });
      return null;
    }
  }

  /** Resources of `typeUrl` for `proxy`: the requested names, or everything for a wildcard watch (`names` undefined). */
  generate(proxy: ProxyInfo, typeUrl: string, names: string[] | undefined): Resource[] {
    const scope = scopeOf(proxy, typeUrl);
    if (proxy.proxyless) {
      const out: Resource[] = [];
      for (const name of names ?? []) {
        // A server listener also depends on the workload's labels (its PeerAuthentication).
        const key = `${typeUrl}\0${scope}\0${name}${name.startsWith(SERVER_LISTENER_PREFIX) ? JSON.stringify(proxy.labels) : ''}`;
        let r = this.cache.get(key);
        if (r === undefined) {
          const obj = generateGrpc(this.ctx, proxy, typeUrl, name);
          r = obj ? this.encode(typeUrl, obj) : null;
          this.cache.set(key, r);
        }
        if (r) out.push(r);
      }
      return out;
    }
    const key = `${typeUrl}\0${scope}\0${names ? names.join(',') : '*'}`;
    let list = this.lists.get(key);
    if (!list) {
      list = generateEnvoy(this.ctx, proxy, typeUrl, names).map((o) => this.encode(typeUrl, o)).filter((r): r is Resource => r !== null);
      this.lists.set(key, list);
    }
    return list;
  }
}
