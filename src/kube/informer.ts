// A list/watch cache that keeps going. client-node's informer stops on any watch error other than
// "410 Gone"; this one restarts it with exponential backoff, and re-lists periodically so that a
// missed event cannot leave the cache wrong for long.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface InformerHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
  /** Called after each successful (re)list, with every object the API server has. */
  synced?(objects: T[]): void;
  error(err: unknown, retryInMs: number): void;
}

export interface WatchSelectors<T = KubernetesObject> {
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * What the informer's own cache keeps of each object (say, a Secret without its data). With it the
   * handlers see every object whole, straight from the list and the watch, and nothing else keeps it.
   */
  cacheView?: (obj: T) => T;
}

/** A Watch whose events reach `raw` whole and the informer as `view(obj)`. */
class ViewWatch<T> extends Watch {
  constructor(kc: KubeConfig, private readonly view: (obj: T) => T, private readonly raw: (phase: string, obj: T) => void) {
    super(kc);
  }

  override watch(path: string, params: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, params, (phase, obj, watchObj) => {
      const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
      if (isObject) this.raw(phase, obj as T);
      callback(phase, isObject ? this.view(obj as T) : obj, watchObj);
    }, done);
  }
}

export interface ResilientInformer {
  /** Resolves after the first successful list. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const RESYNC_MS = 10 * 60_000;

export function watchResource<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  handlers: InformerHandlers<T>,
  selectors: WatchSelectors<T> = {},
): ResilientInformer {
  const view = selectors.cacheView;
  let stopped = false;
  let backoff = MIN_BACKOFF_MS;
  let timer: NodeJS.Timeout | undefined;
  let resync: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  // Wrap the list so that each successful list reports the full set and resets the backoff.
  const listAndReport = async (): Promise<KubernetesListObject<T>> => {
    const result = await list();
    backoff = MIN_BACKOFF_MS;
    handlers.synced?.(result.items);
    markReady();
    return view ? { ...result, items: result.items.map(view) } : result;
  };
  const watch = view ? new ViewWatch<T>(kc, view, (phase, o) => (phase === 'DELETED' ? handlers.remove(o) : handlers.upsert(o))) : new Watch(kc);
  const informer = new ListWatch<T>(path, watch, listAndReport, false, selectors.labelSelector, selectors.fieldSelector);
  if (!view) {
    informer.on('add', (o) => handlers.upsert(o));
    informer.on('update', (o) => handlers.upsert(o));
    informer.on('delete', (o) => handlers.remove(o));
  }
  const restart = (): void => {
    if (stopped) return;
    void informer.stop().then(() => informer.start()).catch(onError);
  };
  const onError = (err: unknown): void => {
    if (stopped) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    handlers.error(err, wait);
    clearTimeout(timer);
    timer = setTimeout(restart, wait);
  };
  informer.on('error', onError);
  void informer.start().catch(onError);
  resync = setInterval(restart, RESYNC_MS);
  return {
    ready,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(resync);
      await informer.stop();
    },
  };
}
