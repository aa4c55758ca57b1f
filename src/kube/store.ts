// An in-memory view of the Kubernetes objects meshd reads (ConfigMaps, Nodes, Namespaces, and later
// Services and Istio config). Fed by a directory of YAML in local mode or by API watches in a cluster;
// consumers read it and subscribe to changes, so they never care where objects came from.

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

type Listener = (kind: string) => void;

function keyOf(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name ?? ''}`;
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly sources = new Map<string, Set<string>>();
  private readonly listeners = new Set<Listener>();

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(kind, namespace, name));
  }

  list(kind: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.objects.values()) {
      if (o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace)) out.push(o);
    }
    return out;
  }

  upsert(obj: KubeObject, source = 'api'): void {
    const kind = obj.kind ?? '';
    const key = keyOf(kind, obj.metadata?.namespace, obj.metadata?.name);
    this.objects.set(key, obj);
    let keys = this.sources.get(source);
    if (!keys) this.sources.set(source, (keys = new Set()));
    keys.add(key);
    this.emit(kind);
  }

  remove(kind: string, namespace: string | undefined, name: string): void {
    if (this.objects.delete(keyOf(kind, namespace, name))) this.emit(kind);
  }

  /** Replaces everything one source (e.g. a directory) provided with its new set of objects. */
  replaceSource(source: string, objects: KubeObject[]): void {
    const changed = new Set<string>();
    for (const key of this.sources.get(source) ?? []) {
      const old = this.objects.get(key);
      if (old && this.objects.delete(key)) changed.add(old.kind ?? '');
    }
    const keys = new Set<string>();
    for (const o of objects) {
      const key = keyOf(o.kind ?? '', o.metadata?.namespace, o.metadata?.name);
      this.objects.set(key, o);
      keys.add(key);
      changed.add(o.kind ?? '');
    }
    this.sources.set(source, keys);
    for (const k of changed) this.emit(k);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(kind: string): void {
    for (const l of this.listeners) l(kind);
  }
}
