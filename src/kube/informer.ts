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

export interface WatchSelectors {
  labelSelector?: string;
  fieldSelector?: string;
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
  selectors: WatchSelectors = {},
): ResilientInformer {
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
    return result;
  };
  const informer = new ListWatch<T>(path, new Watch(kc), listAndReport, false, selectors.labelSelector, selectors.fieldSelector);
  informer.on('add', (o) => handlers.upsert(o));
  informer.on('update', (o) => handlers.upsert(o));
  informer.on('delete', (o) => handlers.remove(o));
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
