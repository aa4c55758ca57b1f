// Chooses the generator for a proxy (proxyless gRPC or Envoy) and encodes each resource once per
// PushContext: every stream that asks for the same resource in the same scope shares the bytes. Both caches
// are bounded LRUs (istiod's XdsCache, sized by PILOT_XDS_CACHE_SIZE) and neither keeps a miss, so names,
// addresses and labels that a caller makes up cost it a lookup, not memory that outlives its stream.
import { createHash } from 'node:crypto';
import type { ProxyInfo } from '../types.js';
import { LruCache } from '../cache/lru.js';
import type { Msg } from './gen/common.js';
import { envoyNamed, envoyWildcard } from './gen/envoy.js';
import { generateGrpc, SERVER_LISTENER_PREFIX } from './gen/grpc.js';
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

/** istiod's PILOT_XDS_CACHE_SIZE default (entries). */
export const DEFAULT_XDS_CACHE_SIZE = 60_000;
/** Average budget per cache entry for what it holds besides the resources: its key and 8 bytes a resource. */
const ENTRY_BUDGET = 256;
/** Average budget per encoded resource: its generated JSON (the key) and its bytes. */
const RESOURCE_BUDGET = 4096;

const resourceName = (o: Msg): string => String(o.name ?? o.cluster_name ?? '');

/** Types whose subscriptions may be wildcard and whose responses are full state (istiod's IsWildcardTypeURL). */
export const isWildcardType = (typeUrl: string): boolean => typeUrl === TYPE.cluster || typeUrl === TYPE.listener;

/** Push order: make before break (clusters, endpoints, listeners, routes, secrets, others). */
export const PUSH_ORDER: string[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.secret];
export function pushOrder(types: Iterable<string>): string[] {
  const rank = (t: string): number => (PUSH_ORDER.includes(t) ? PUSH_ORDER.indexOf(t) : PUSH_ORDER.length);
  return [...types].sort((a, b) => rank(a) - rank(b));
}

/** Scopes carry the caller's namespace and labels: long ones are hashed so that keys stay short. */
const compact = (s: string): string => (s.length <= 96 ? s : `#${createHash('sha1').update(s).digest('base64url')}`);

/** What a proxy's resources of `typeUrl` depend on besides their names. */
function scopeOf(ctx: PushContext, proxy: ProxyInfo, typeUrl: string): string {
  if (proxy.proxyless) return compact(`grpc|${proxy.namespace}`);
  // Envoy endpoints and secrets depend on the namespace only; routes also on the labels (Sidecar, sourceLabels);
  // a sidecar's clusters and listeners also on the services at its address, when there are any.
  if (typeUrl === TYPE.endpoint) return compact(`${proxy.type}|${proxy.namespace}`);
  // Secrets also depend on who the proxy verifiably is: output for a verified proxy is never an unverified one's.
  if (typeUrl === TYPE.secret) return compact(`${proxy.type}|${proxy.namespace}|${proxy.verifiedIdentity?.namespace ?? '-'}`);
  const labels = JSON.stringify(proxy.labels);
  if (typeUrl === TYPE.route) return compact(`${proxy.type}|${proxy.namespace}|${labels}`);
  const ip = proxy.type === 'sidecar' && ctx.hasInstancesAt(proxy.ip) ? proxy.ip : '';
  return compact(`${proxy.type}|${proxy.namespace}|${ip}|${labels}`);
}

type Cached = Resource | Resource[];

export class ResourceGenerator {
  /** Named resources and wildcard lists by type, scope and name. */
  private readonly cache: LruCache<Cached>;
  /** Encoded resources by their generated JSON: most survive a push unchanged, and encoding costs ~5x the JSON. */
  readonly encoded: LruCache<Resource>;

  /** `previous`: the generator of the last PushContext, whose encodings are reused where nothing changed. */
  constructor(
    readonly ctx: PushContext,
    private readonly onError: (e: GenerateError) => void,
    private previous?: ResourceGenerator,
    cacheSize = DEFAULT_XDS_CACHE_SIZE,
  ) {
    const entryCost = (k: string, v: Cached): number => k.length + 8 * (Array.isArray(v) ? v.length : 1);
    this.cache = new LruCache<Cached>(cacheSize, cacheSize * ENTRY_BUDGET, entryCost);
    this.encoded = new LruCache<Resource>(cacheSize, cacheSize * RESOURCE_BUDGET, (k, r) => k.length + r.bytes.length);
  }

  /** Entries in the resource cache (for tests and debugging). */
  get cached(): number {
    return this.cache.size;
  }

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
    if (!proxy.proxyless && isWildcardType(typeUrl)) {
      const all = this.wildcard(proxy, typeUrl);
      if (!names) return all;
      const wanted = new Set(names);
      return all.filter((r) => wanted.has(r.name));
    }
    const out: Resource[] = [];
    if (!names?.length) return out;
    const scope = scopeOf(this.ctx, proxy, typeUrl);
    let serverScope: string | undefined;
    for (const name of names) {
      // A proxyless server listener also depends on the workload's labels (its PeerAuthentication).
      const server = proxy.proxyless && name.startsWith(SERVER_LISTENER_PREFIX);
      if (server) serverScope ??= compact(`${scope}|${JSON.stringify(proxy.labels)}`);
      const r = this.named(proxy, typeUrl, server ? serverScope! : scope, name);
      if (r) out.push(r);
    }
    return out;
  }

  /** One named resource; only found ones are cached, so a made-up name costs a lookup each time and no memory. */
  private named(proxy: ProxyInfo, typeUrl: string, scope: string, name: string): Resource | undefined {
    const key = `${typeUrl}\0${scope}\0${name}`;
    const hit = this.cache.get(key);
    if (hit) return hit as Resource;
    const obj = proxy.proxyless ? generateGrpc(this.ctx, proxy, typeUrl, name) : envoyNamed(this.ctx, proxy, typeUrl, name);
    const r = obj && this.encode(typeUrl, obj);
    if (!r) return undefined;
    this.cache.set(key, r);
    return r;
  }

  /** Everything of a wildcard type for an Envoy proxy, once per scope. */
  private wildcard(proxy: ProxyInfo, typeUrl: string): Resource[] {
    const key = `${typeUrl}\0${scopeOf(this.ctx, proxy, typeUrl)}\0*`;
    let list = this.cache.get(key) as Resource[] | undefined;
    if (!list) {
      list = envoyWildcard(this.ctx, proxy, typeUrl)
        .map((o) => this.encode(typeUrl, o))
        .filter((r): r is Resource => r !== null);
      this.cache.set(key, list);
    }
    return list;
  }
}
