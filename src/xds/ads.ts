// The ADS server's protocol core: per-stream, per-type watches with istiod's request rules (ACK, NACK,
// stale nonces, unsubscribes, warming), State-of-the-World and Delta responses, and pushes that run in
// push order with at most one push in flight per connection. Transport-free: a stream is a StreamSink;
// server.ts binds it to gRPC.
import type { ProxyInfo } from '../types.js';
import type { Logger } from '../telemetry/logger.js';
import type { XdsMetrics } from '../telemetry/metrics.js';
import { DEFAULT_XDS_CACHE_SIZE, isWildcardType, PUSH_ORDER, pushOrder, ResourceGenerator } from './generator.js';
import type { GenerateError, Resource } from './generator.js';
import { TYPE } from './protos.js';
import type { PushContext } from './push-context.js';
import { SendQueue, type StreamSink } from './send-queue.js';

export type { StreamSink } from './send-queue.js';

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
  /** Who answered (istiod sends it on istio.io/debug/syncz only). */
  control_plane?: { identifier: string };
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: Array<{ name: string; version: string; resource: WireResource }>;
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export interface DiscoveryOptions {
  /** Concurrent pushes (istiod's PILOT_PUSH_THROTTLE). */
  pushThrottle: number;
  /** Generator cache entries (istiod's PILOT_XDS_CACHE_SIZE). */
  cacheSize: number;
  /** How long a response may wait for a client that does not read before its stream is closed; 0: forever. */
  sendTimeoutMs: number;
  /** Untaken response bytes a stream may hold before it stops reading requests and its pushes wait. */
  highWaterBytes: number;
  /** Resource names one stream may watch over all its types. */
  maxNames: number;
}

export const DEFAULT_DISCOVERY_OPTIONS: DiscoveryOptions = {
  pushThrottle: 100,
  cacheSize: DEFAULT_XDS_CACHE_SIZE,
  // istiod's former default was 5 s, which Envoys applying a large config while not reading could exceed.
  sendTimeoutMs: 30_000,
  highWaterBytes: 1024 * 1024,
  // Envoy's longest list is EDS, one name per cluster: 65,536 covers ~20,000 services with two subsets each,
  // and realistic names of that many (~50 bytes) already come near the 4 MiB request limit.
  maxNames: 65_536,
};

/** gRPC status codes the core ends streams with. */
export const GRPC_STATUS = { RESOURCE_EXHAUSTED: 8, UNAUTHENTICATED: 16 } as const;

/** istiod's status types (istio.io/debug/syncz, ...): answered on request, never watched. */
export const DEBUG_TYPE_PREFIX = 'istio.io/debug/';

/** The types meshd generates; requests for others are ignored and keep no state. */
const SERVED_TYPES = new Set(PUSH_ORDER);

/** NACK details are the client's text: kept and logged only this long. */
const MAX_ERROR_CHARS = 1024;

export interface Watch {
  names: Set<string>;
  wildcard: boolean;
  nonceSent?: string;
  nonceAcked?: string;
  versionSent?: string;
  versionAcked?: string;
  /** When the last response on this watch was sent. */
  sentAt?: Date;
  lastError?: string;
  /** Answer the next request even if it looks like an ACK (EDS while clusters warm). */
  alwaysRespond: boolean;
  /** Hash of the last full SotW response, to skip pushes that would change nothing. */
  lastSentHash?: string;
  /** Delta: name -> version the client holds. */
  sent: Map<string, string>;
}

type AnySink = StreamSink<DiscoveryResponse> | StreamSink<DeltaDiscoveryResponse>;

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
    readonly sink: AnySink,
    readonly queue: SendQueue<DiscoveryResponse | DeltaDiscoveryResponse>,
  ) {}
}

/** About the bytes a response takes on the wire, for flow control (resources dominate). */
const sizeOf = (resources: Resource[], extra = 0): number =>
  resources.reduce((n, r) => n + r.bytes.length + r.typeUrl.length + r.name.length + 24, 128 + extra);

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
  private readonly opts: DiscoveryOptions;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: XdsMetrics,
    options: Partial<DiscoveryOptions> = {},
  ) {
    this.opts = { ...DEFAULT_DISCOVERY_OPTIONS, ...options };
  }

  get context(): PushContext | undefined {
    return this.generator?.ctx;
  }

  /** Installs a new PushContext and pushes every connection. */
  setContext(ctx: PushContext): void {
    // The previous generator lends its encodings to the new one, and nothing older is kept.
    this.generator?.forgetPrevious();
    const onError = (e: GenerateError): void => this.logger.error(e, 'generated an invalid resource; left out');
    this.generator = new ResourceGenerator(ctx, onError, this.generator, this.opts.cacheSize);
    const start = Date.now();
    for (const conn of this.connections.values()) this.enqueuePush(conn, start);
  }

  /** Answers istio.io/debug/ requests on a SotW stream (debug-types.ts); unset, they are ignored like unserved types. */
  debugRequests: ((conn: Connection, req: DiscoveryRequest) => void) | undefined;

  /** Ends a stream with a status (reset if it cannot drain within the send timeout); it is forgotten at once. */
  fail(conn: Connection, code: number, details: string): void {
    this.forget(conn);
    conn.sink.close(code, details, this.opts.sendTimeoutMs);
  }

  /** SDS authorization: which requested secret names a proxy may be sent (none unless serve wires the review in). */
  authorizeSecrets: (proxy: ProxyInfo, names: string[]) => string[] = () => [];

  resources(proxy: ProxyInfo, typeUrl: string, names: string[] | undefined): Resource[] {
    if (!this.generator) return [];
    return this.generator.generate(proxy, typeUrl, typeUrl === TYPE.secret ? this.authorizeSecrets(proxy, names ?? []) : names);
  }

  connect(proxy: ProxyInfo, delta: boolean, sink: AnySink): Connection {
    const limits = { highWaterBytes: this.opts.highWaterBytes, sendTimeoutMs: this.opts.sendTimeoutMs };
    const out = sink as StreamSink<DiscoveryResponse | DeltaDiscoveryResponse>;
    const queue = new SendQueue(out, limits, () => this.sendTimedOut(conn));
    const conn: Connection = new Connection(`${proxy.id}-${++this.connCounter}`, proxy, delta, sink, queue);
    this.connections.set(conn.id, conn);
    this.metrics.connected.inc();
    return conn;
  }

  /** The transport closed the stream. */
  disconnect(conn: Connection): void {
    conn.queue.stop();
    this.forget(conn);
  }

  private forget(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn.id);
    this.metrics.connected.dec();
  }

  /** A response stayed untaken for the send timeout: the client is not reading, and its stream is reset. */
  private sendTimedOut(conn: Connection): void {
    this.metrics.writeTimeouts.inc();
    const { id: proxy, namespace } = conn.proxy;
    const fields = { proxy, namespace, queuedBytes: conn.queue.bytes, timeoutMs: this.opts.sendTimeoutMs };
    this.logger.info(fields, 'timeout writing xDS response; closing the stream');
    conn.queue.stop();
    this.forget(conn);
    conn.sink.reset();
  }

  /** Ends a stream whose request is beyond a limit with a status (reset if it cannot drain within the send timeout). */
  private refuse(conn: Connection, typeUrl: string, names: number): void {
    const details = `too many resource names: ${names} (a stream may watch ${this.opts.maxNames}; MESHD_XDS_MAX_NAMES)`;
    const { id: proxy, namespace } = conn.proxy;
    const fields = { proxy, namespace, type: shortType(typeUrl), names, limit: this.opts.maxNames };
    this.logger.warn(fields, 'xDS request refused: too many resource names');
    this.fail(conn, GRPC_STATUS.RESOURCE_EXHAUSTED, details);
  }

  /** Whether the connection, with this request applied, watches more names than allowed (then it is refused). */
  private overLimit(conn: Connection, typeUrl: string, requested: number): boolean {
    let names = requested;
    if (names <= this.opts.maxNames) {
      names = 0;
      for (const w of conn.watches.values()) names += w.names.size;
    }
    if (names <= this.opts.maxNames) return false;
    this.refuse(conn, typeUrl, names);
    return true;
  }

  /** Records a response about to be sent on a watch: a fresh nonce (returned), its version, the metric. */
  private stamp(w: Watch, typeUrl: string, version: string): string {
    w.nonceSent = `${version}-${(++this.nonceCounter).toString(36)}`;
    w.versionSent = version;
    w.sentAt = new Date();
    this.metrics.pushes.inc({ type: shortType(typeUrl) });
    return w.nonceSent;
  }

  private nack(conn: Connection, w: Watch | undefined, typeUrl: string, nonce: string | undefined, error: { code?: number; message?: string }): void {
    const message = `${error.code ?? ''} ${error.message ?? ''}`.trim().slice(0, MAX_ERROR_CHARS);
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
    if (conn.closed) return;
    // Debug requests start no watch (istiod's processRequest answers them apart).
    if (typeUrl.startsWith(DEBUG_TYPE_PREFIX)) return void this.debugRequests?.(conn, req);
    if (!SERVED_TYPES.has(typeUrl)) return;
    const requested = req.resource_names ?? [];
    if (requested.length > this.opts.maxNames) return void this.overLimit(conn, typeUrl, requested.length);
    const names = new Set(requested);
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
      if (this.overLimit(conn, typeUrl, 0)) return;
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
    if (this.overLimit(conn, typeUrl, 0)) return;
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
    const wire = resources.map((r) => ({ type_url: typeUrl, value: r.bytes }));
    const msg: DiscoveryResponse = { version_info: ctx.version, resources: wire, type_url: typeUrl, nonce };
    conn.queue.send(msg, sizeOf(resources));
  }

  // ---- Delta ----

  handleDelta(conn: Connection, req: DeltaDiscoveryRequest): void {
    const typeUrl = req.type_url ?? '';
    if (conn.closed || !SERVED_TYPES.has(typeUrl)) return;
    const nonce = req.response_nonce ?? '';
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    const initial = Object.entries(req.initial_resource_versions ?? {});
    const requested = subscribe.length + initial.length;
    if (requested > this.opts.maxNames) return void this.overLimit(conn, typeUrl, requested);
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
      for (const [name, version] of initial) {
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
    if (this.overLimit(conn, typeUrl, 0)) return;
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
    const msg: DeltaDiscoveryResponse = {
      system_version_info: ctx.version,
      resources: changed.map((r) => ({ name: r.name, version: r.hash, resource: { type_url: typeUrl, value: r.bytes } })),
      type_url: typeUrl,
      removed_resources: removed,
      nonce,
    };
    conn.queue.send(msg, sizeOf(changed, removed.reduce((n, name) => n + name.length + 2, 0)));
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
    if (this.active < this.opts.pushThrottle) {
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

  /**
   * One push, type by type. A slot is held only while a type is generated and written: a stream whose client
   * is not reading waits for drain without one, so it cannot keep other proxies from their pushes.
   */
  private async runPush(conn: Connection, start: number): Promise<void> {
    let from: number | undefined = start;
    while (from !== undefined && !conn.closed) {
      try {
        for (const typeUrl of pushOrder(conn.watches.keys())) {
          if (conn.queue.blocked) await conn.queue.drained();
          if (conn.closed) break;
          await this.acquire();
          try {
            const w = conn.watches.get(typeUrl);
            if (!w || conn.closed) continue;
            if (conn.delta) this.respondDelta(conn, typeUrl, w, false);
            else this.respondSotw(conn, typeUrl, w, true);
          } finally {
            this.release();
          }
        }
        if (!conn.closed) this.metrics.convergence.observe((Date.now() - from) / 1000);
      } catch (err) {
        this.logger.error({ proxy: conn.proxy.id, err: (err as Error).message }, 'push failed');
      }
      from = conn.pendingPush;
      conn.pendingPush = undefined;
    }
    conn.pushing = false;
  }
}
