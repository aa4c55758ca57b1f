// Prometheus metrics merging (istio pkg/kube/inject/webhook.go applyPrometheusMerge): the pod's scrape
// annotations are pointed at the agent, which merges app and Envoy metrics; the originals go to the
// agent in ISTIO_PROMETHEUS_ANNOTATIONS.
import type { MeshConfig, Pod } from '../types.js';
import { parseGoBool } from './annotations.js';
import { findContainer, PROXY } from './containers.js';

const SCRAPE = 'prometheus_io_scrape';
const PORT = 'prometheus_io_port';
const PATH = 'prometheus_io_path';
const TARGETS = 'prometheus_istio_io_scrape_targets';
const SECURE_PORT = 'prometheus_istio_io_secure_port';
const CLEARED = new Set([SCRAPE, PORT, PATH, TARGETS]);

const RESERVED_PORTS: Record<string, string> = {
  '15000': 'Envoy admin',
  '15001': 'outbound traffic capture',
  '15004': 'pilot debug',
  '15006': 'inbound traffic capture',
  '15008': 'HBONE tunnel',
  '15020': 'pilot-agent status / merged Prometheus',
  '15021': 'Envoy health',
  '15053': 'DNS proxy',
  '15090': 'Envoy Prometheus (already merged)',
};

/** Prometheus' label-name sanitising: anything outside [a-zA-Z0-9_] becomes '_'. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function find(annotations: Record<string, string>, sanitized: string): [string, string] | undefined {
  for (const [k, v] of Object.entries(annotations)) if (sanitizeLabelName(k) === sanitized) return [k, v];
  return undefined;
}

export function prometheusPort(annotations: Record<string, string>): string | undefined {
  return find(annotations, PORT)?.[1];
}

export function clearPrometheusAnnotations(annotations: Record<string, string>): void {
  for (const k of Object.keys(annotations)) if (CLEARED.has(sanitizeLabelName(k))) delete annotations[k];
}

function mergeEnabled(mesh: MeshConfig, annotations: Record<string, string>): boolean {
  const v = annotations['prometheus.istio.io/merge-metrics'];
  if (v !== undefined) {
    const b = parseGoBool(v);
    if (b !== undefined) return b;
  }
  return mesh.enablePrometheusMerge !== false;
}

function checkPort(port: string, agentPort: string, isTarget: boolean): void {
  const what = isTarget ? 'invalid prometheus scrape targets' : 'invalid prometheus scrape configuration';
  const n = /^[+-]?\d+$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what}: invalid ${isTarget ? 'target ' : ''}port "${port}"`);
  const canon = String(n);
  const prefix = `${what}: ${isTarget ? 'target ' : ''}port`;
  if (canon === agentPort) throw new Error(`${prefix} ${port} conflicts with agent port`);
  const reason = RESERVED_PORTS[canon];
  if (reason) throw new Error(`${prefix} ${port} is reserved for Istio (${reason}) and cannot be scraped`);
}

/** Rewrites scrape annotations and records the originals on istio-proxy. Throws on invalid targets. */
export function applyPrometheusMerge(pod: Pod, mesh: MeshConfig, statusPort: number): void {
  const meta = (pod.metadata ??= {});
  const ann = (meta.annotations ??= {});
  const scrapeAnn = find(ann, SCRAPE);
  const scrape = scrapeAnn === undefined ? true : (parseGoBool(scrapeAnn[1]) ?? true);
  if (!scrape || !mergeEnabled(mesh, ann)) return;
  const target = String(statusPort);
  if (prometheusPort(ann) === target) return;
  const cfg: { scrape: string; path: string; port: string; targets?: Array<{ port: string; path: string }> } = { scrape: '', path: '', port: '' };
  for (const [k, v] of Object.entries(ann)) {
    switch (sanitizeLabelName(k)) {
      case PORT:
        cfg.port = v;
        break;
      case SCRAPE:
        cfg.scrape = v;
        break;
      case PATH:
        cfg.path = v;
        break;
      case TARGETS: {
        const targets = parseScrapeTargets(v);
        if (targets) cfg.targets = targets;
        break;
      }
    }
  }
  if (cfg.targets && cfg.targets.length > 0) {
    cfg.port = cfg.targets[0]!.port;
    cfg.path = cfg.targets[0]!.path;
    for (const t of cfg.targets) checkPort(t.port, target, true);
  } else if (cfg.port !== '') checkPort(cfg.port, target, false);
  const empty = cfg.scrape === '' && cfg.path === '' && cfg.port === '' && !(cfg.targets && cfg.targets.length > 0);
  const sidecar = findContainer(pod, PROXY);
  if (sidecar && !empty) {
    if (cfg.targets && cfg.targets.length === 0) delete cfg.targets;
    sidecar.env = [...(sidecar.env ?? []), { name: 'ISTIO_PROMETHEUS_ANNOTATIONS', value: JSON.stringify(cfg) }];
  }
  clearPrometheusAnnotations(ann);
  ann['prometheus.io/port'] = target;
  ann['prometheus.io/path'] = '/stats/prometheus';
  ann['prometheus.io/scrape'] = 'true';
}

/** "port:path,..." pairs; undefined when an entry has no port (istiod then ignores the annotation). */
export function parseScrapeTargets(raw: string): Array<{ port: string; path: string }> | undefined {
  const out: Array<{ port: string; path: string }> = [];
  for (const e of raw.split(',')) {
    const entry = e.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const port = (colon === -1 ? entry : entry.slice(0, colon)).trim();
    if (port === '') return undefined;
    const path = colon === -1 ? '' : entry.slice(colon + 1).trim();
    out.push({ port, path: path === '' ? '/metrics' : path });
  }
  return out;
}

/** prometheus.istio.io/secure-port from the proxy's ENVOY_SECURE_MERGED_METRICS_PORT, unless set. */
export function applySecurePrometheusAnnotation(pod: Pod): void {
  const ann = (pod.metadata!.annotations ??= {});
  if (Object.keys(ann).some((k) => sanitizeLabelName(k) === SECURE_PORT)) return;
  const v = findContainer(pod, PROXY)?.env?.find((e) => e.name === 'ENVOY_SECURE_MERGED_METRICS_PORT')?.value;
  if (v && v !== '0') ann['prometheus.istio.io/secure-port'] = v;
}
