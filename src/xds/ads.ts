// The ADS server's protocol core: per-stream, per-type watches with istiod's request rules (ACK, NACK,
// stale nonces, unsubscribes, warming), State-of-the-World and Delta responses, and pushes that run in
// push order with at most one push in flight per connection. Transport-free: a stream is anything with
// write(); server.ts binds it to gRPC.
import type { ProxyInfo } from '../types.js';
import type { Logger } from '../telemetry/logger.js';
import type { XdsMetrics } from '../telemetry/metrics.js';
import { isWildcardType, pushOrder, ResourceGenerator, type Resource } from './generator.js';
import { TYPE } from './protos.js';
import type { PushContext } from './push-context.js';

export interface DiscoveryRequest {
  version_info?: string;
  node?: unknown;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface DeltaDiscoveryRequest {
  node?: unknown;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface WireResource {
  type_url: string;
  value: Uint8Array;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: WireResource[];
  type_url: string;
  nonce: string;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: Array<{ name: string; version: string; resource: WireResource }>;
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

/** Where responses go; pushes wait for drain when the transport's buffer is full. */
export interface StreamSink<T> {
  write(msg: T): void;
  needsDrain(): boolean;
  waitDrain(): Promise<void>;
}

export interface Watch {
  names: Set<string>;
  wildcard: boolean;
  nonceSent?: string;
  nonceAcked?: string;
  versionSent?: string;
  versionAcked?: string;
  lastError?: string;
  /** Answer the next request even if it looks like an ACK (EDS while clusters warm). */
  alwaysRespond: boolean;
  /** Hash of the last full SotW response, to skip pushes that would change nothing. */
  lastSentHash?: string;
  /** Delta: name -> version the client holds. */
  sent: Map<string, string>;
}

export class Connection {
  readonly watches = new Map<string, Watch>();
  readonly connectedAt = new Date();
  pushing = false;
  pendingPush: number | undefined;
  closed = false;

  constructor(
    readonly id: string,
    readonly proxy: ProxyInfo,
    readonly delta: boolean,
    readonly sink: StreamSink<DiscoveryResponse> | StreamSink<DeltaDiscoveryResponse>,
  ) {}
}

const SHORT_TYPE: Record<string, string> = { [TYPE.cluster]: 'cds', [TYPE.endpoint]: 'eds', [TYPE.listener]: 'lds', [TYPE.route]: 'rds', [TYPE.secret]: 'sds' };
export const shortType = (typeUrl: string): string => SHORT_TYPE[typeUrl] ?? typeUrl;

const sameSet = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

/** The connections and their watches (read by the debug endpoints), the current generator, and pushes. */
export class DiscoveryServer {
  readonly connections = new Map<string, Connection>();
  private generator: ResourceGenerator | undefined;
  private nonceCounter = 0;
  private connCounter = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly logger: Logger,
    private readonly metrics: XdsMetrics,
    /** Concurrent pushes (istiod's PILOT_PUSH_THROTTLE). */
    private readonly pushThrottle = 100,
  ) {}

  get context(): PushContext | undefined {
    return this.generator?.ctx;
  }

  /** Installs a new PushContext and pushes every connection. */
  setContext(ctx: PushContext): void {
    // The previous generator lends its encodings to the new one, and nothing older is kept.
    this.generator?.forgetPrevious();
    this.generator = new ResourceGenerator(ctx, (e) => this.logger.error(e, 'generated an invalid resource; left out'), this.generator);
    const start = Date.now();
    for (const conn of this.connections.values()) this.enqueuePush(conn, start);
  }

  /** SDS authorization: which requested secret names a proxy may be sent (none unless serve wires the review in). */
  authorizeSecrets: (proxy: ProxyInfo, names: string[]) => string[] = () => [];

  resources(proxy: ProxyInfo, typeUrl: string, names: string[] | undefined): Resource[] {
    if (!this.generator) return [];
    return this.generator.generate(proxy, typeUrl, typeUrl === TYPE.secret ? this.authorizeSecrets(proxy, names ?? []) : names);
  }

  connect(proxy: ProxyInfo, delta: boolean, sink: Connection['sink']): Connection {
    const conn = new Connection(`${proxy.id}-${++this.connCounter}`, proxy, delta, sink);
    this.connections.set(conn.id, conn);
    this.metrics.connected.inc();
    return conn;
  }

  disconnect(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn.id);
    this.metrics.connected.dec();
  }

  /** Records a response about to be sent on a watch: a fresh nonce (returned), its version, the metric. */
  private stamp(w: Watch, typeUrl: string, version: string): string {
    w.nonceSent = `${version}-${(++this.nonceCounter).toString(36)}`;
    w.versionSent = version;
    this.metrics.pushes.inc({ type: shortType(typeUrl) });
    return w.nonceSent;
  }

  private nack(conn: Connection, w: Watch | undefined, typeUrl: string, nonce: string | undefined, error: { code?: number; message?: string }): void {
    const message = `${error.code ?? ''} ${error.message ?? ''}`.trim();
    if (w) w.lastError = message;
    this.metrics.rejects.inc({ type: shortType(typeUrl) });
    this.logger.warn({ proxy: conn.proxy.id, type: shortType(typeUrl), nonce, error: message }, 'xDS response rejected (NACK)');
  }

  /** Records an ACK of the last response; false (and a metric) when the nonce is stale and the request is to be ignored. */
  private ack(w: Watch, typeUrl: string, nonce: string, version: string | undefined): boolean {
    if (nonce !== w.nonceSent) {
      this.metrics.expiredNonce.inc({ type: shortType(typeUrl) });
      return false;
    }
    w.nonceAcked = nonce;
    w.versionAcked = version;
    w.lastError = undefined;
    return true;
  }

  // ---- State of the World ----

  /** Handles one SotW request (istiod's ShouldRespond, then the response). */
  handleSotw(conn: Connection, req: DiscoveryRequest): void {
    const typeUrl = req.type_url ?? '';
    const names = new Set(req.resource_names ?? []);
    const nonce = req.response_nonce ?? '';
    let w = conn.watches.get(typeUrl);
    if (req.error_detail) return this.nack(conn, w, typeUrl, nonce, req.error_detail);
    if (names.size === 0 && !isWildcardType(typeUrl)) {
      conn.watches.delete(typeUrl); // unsubscribe: nothing to send
      return;
    }
    if (!nonce || !w) {
      w = { names, wildcard: names.size === 0 || names.has('*'), alwaysRespond: false, sent: new Map() };
      conn.watches.set(typeUrl, w);
      if (typeUrl === TYPE.cluster) {
        const eds = conn.watches.get(TYPE.endpoint);
        if (eds) eds.alwaysRespond = true;
      }
      this.respondSotw(conn, typeUrl, w, false);
      return;
    }
    if (!this.ack(w, typeUrl, nonce, req.version_info)) return;
    const changed = !sameSet(w.names, names);
    const added = [...names].filter((n) => !w!.names.has(n));
    w.names = names;
    if (w.alwaysRespond) {
      w.alwaysRespond = false;
      this.respondSotw(conn, typeUrl, w, false);
    } else if (changed && (isWildcardType(typeUrl) || conn.proxy.proxyless)) this.respondSotw(conn, typeUrl, w, false);
    else if (added.length) this.respondSotw(conn, typeUrl, w, false, added);
  }

  /** Sends the watch's resources (or only `only`); a push skips the send when nothing changed since the last full response. */
  private respondSotw(conn: Connection, typeUrl: string, w: Watch, isPush: boolean, only?: string[]): void {
    const ctx = this.context;
    if (!ctx) return;
    const resources = this.resources(conn.proxy, typeUrl, w.wildcard ? undefined : (only ?? [...w.names]));
    // RDS/EDS responses may be partial and carry no deletions, so an empty one says nothing.
    if (resources.length === 0 && !isWildcardType(typeUrl)) return;
    const hash = only ? undefined : resources.map((r) => `${r.name}=${r.hash}`).join(',');
    if (isPush && hash !== undefined && hash === w.lastSentHash && !w.lastError) return;
    const nonce = this.stamp(w, typeUrl, ctx.version);
    w.lastSentHash = hash;
    (conn.sink as StreamSink<DiscoveryResponse>).write({ version_info: ctx.version, resources: resources.map((r) => ({ type_url: typeUrl, value: r.bytes })), type_url: typeUrl, nonce });
  }

  // ---- Delta ----

  handleDelta(conn: Connection, req: DeltaDiscoveryRequest): void {
    const typeUrl = req.type_url ?? '';
    const nonce = req.response_nonce ?? '';
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    let w = conn.watches.get(typeUrl);
    if (req.error_detail) return this.nack(conn, w, typeUrl, nonce, req.error_detail);
    if (nonce && w) {
      if (!this.ack(w, typeUrl, nonce, w.versionSent)) return;
      if (subscribe.length === 0 && unsubscribe.length === 0) return;
    }
    const first = !w;
    if (!w) {
      // A first request naming nothing is a wildcard subscription for wildcard types.
      w = { names: new Set(), wildcard: subscribe.length === 0 && isWildcardType(typeUrl), alwaysRespond: false, sent: new Map() };
      conn.watches.set(typeUrl, w);
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
        w.sent.set(name, version);
        if (!w.wildcard) w.names.add(name);
      }
    }
    for (const n of subscribe) n === '*' ? (w.wildcard = true) : w.names.add(n);
    for (const n of unsubscribe) {
      if (n === '*') w.wildcard = false;
      w.names.delete(n);
      w.sent.delete(n);
    }
    this.respondDelta(conn, typeUrl, w, first && w.wildcard);
    if (typeUrl === TYPE.cluster) {
      // Envoy does not always re-request EDS after delta CDS; clusters would warm forever (istiod's forceEDSPush).
      const eds = conn.watches.get(TYPE.endpoint);
      if (eds) {
        eds.sent.clear();
        this.respondDelta(conn, TYPE.endpoint, eds, false);
      }
    }
  }

  /** Sends what changed for this watch since the client's versions; wildcard watches also get removals. */
  private respondDelta(conn: Connection, typeUrl: string, w: Watch, force: boolean): void {
    const ctx = this.context;
    if (!ctx) return;
    const resources = this.resources(conn.proxy, typeUrl, w.wildcard ? undefined : [...w.names]);
    const changed = resources.filter((r) => w.sent.get(r.name) !== r.hash);
    const present = new Set(resources.map((r) => r.name));
    const removed = w.wildcard ? [...w.sent.keys()].filter((n) => !present.has(n)) : [];
    if (changed.length === 0 && removed.length === 0 && !force) return;
    for (const r of changed) w.sent.set(r.name, r.hash);
    for (const n of removed) w.sent.delete(n);
    const nonce = this.stamp(w, typeUrl, ctx.version);
    (conn.sink as StreamSink<DeltaDiscoveryResponse>).write({
      system_version_info: ctx.version,
      resources: changed.map((r) => ({ name: r.name, version: r.hash, resource: { type_url: typeUrl, value: r.bytes } })),
      type_url: typeUrl,
      removed_resources: removed,
      nonce,
    });
  }

  // ---- pushes ----

  /** Queues a full push; a push already running for this connection picks it up when it finishes (merging). */
  enqueuePush(conn: Connection, start: number): void {
    if (conn.pushing) {
      conn.pendingPush = Math.min(conn.pendingPush ?? start, start);
      return;
    }
    conn.pushing = true;
    void this.runPush(conn, start);
  }

  private async acquire(): Promise<void> {
    if (this.active < this.pushThrottle) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async runPush(conn: Connection, start: number): Promise<void> {
    let from: number | undefined = start;
    while (from !== undefined && !conn.closed) {
      await this.acquire();
      try {
        for (const typeUrl of pushOrder(conn.watches.keys())) {
          const w = conn.watches.get(typeUrl);
          if (!w || conn.closed) continue;
          if (conn.delta) this.respondDelta(conn, typeUrl, w, false);
          else this.respondSotw(conn, typeUrl, w, true);
          if (conn.sink.needsDrain() && !conn.closed) await conn.sink.waitDrain();
        }
        this.metrics.convergence.observe((Date.now() - from) / 1000);
      } catch (err) {
        this.logger.error({ proxy: conn.proxy.id, err: (err as Error).message }, 'push failed');
      } finally {
        this.release();
      }
      from = conn.pendingPush;
      conn.pendingPush = undefined;
    }
    conn.pushing = false;
  }
}
