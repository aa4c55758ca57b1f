// Application probe rewriting (istio pkg/kube/inject/app_probe.go): HTTP, TCP and gRPC probes and HTTP/TCP
// lifecycle hooks of app containers are pointed at the agent's status port, which forwards them; the
// originals travel to the agent in ISTIO_KUBE_APP_PROBERS.
import { goOrdered, PROBER } from '../kube/go-json.js';
import type { Container, EnvVar, HTTPGetAction, LifecycleHandler, Pod, Probe } from '../types.js';
import { allContainers, PROXY } from './containers.js';
import { parseGoBool } from './annotations.js';

export const APP_PROBERS_ENV = 'ISTIO_KUBE_APP_PROBERS';

interface Prober {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  timeoutSeconds?: number;
}

export function shouldRewriteAppProbers(annotations: Record<string, string>, specSetting: boolean): boolean {
  const v = annotations['sidecar.istio.io/rewriteAppHTTPProbers'];
  const parsed = v === undefined ? undefined : parseGoBool(v);
  return parsed ?? specSetting;
}

function proberURLs(container: string): { readyz: string; livez: string; startupz: string; prestopz: string; poststartz: string } {
  return {
    readyz: `/app-health/${container}/readyz`,
    livez: `/app-health/${container}/livez`,
    startupz: `/app-health/${container}/startupz`,
    prestopz: `/app-lifecycle/${container}/prestopz`,
    poststartz: `/app-lifecycle/${container}/poststartz`,
  };
}

function probeToProber(p: Probe | undefined): Prober | undefined {
  if (!p) return undefined;
  const t = p.timeoutSeconds ? { timeoutSeconds: p.timeoutSeconds } : {};
  if (p.httpGet) return { httpGet: p.httpGet, ...t };
  if (p.tcpSocket) return { tcpSocket: p.tcpSocket, ...t };
  if (p.grpc) return { grpc: p.grpc, ...t };
  return undefined;
}

function handlerToProber(h: LifecycleHandler | undefined): Prober | undefined {
  if (!h) return undefined;
  if (h.httpGet) return { httpGet: h.httpGet };
  if (h.tcpSocket) return { tcpSocket: h.tcpSocket };
  return undefined;
}

/** Named ports resolved to numbers; probes already aimed at the status port are left out. */
function resolvePorts(p: Prober | undefined, ports: Map<string, number>, statusPort: number): Prober | undefined {
  if (!p) return undefined;
  if (p.grpc) return p;
  const target = p.httpGet ?? p.tcpSocket;
  if (!target) return undefined;
  if (typeof target.port === 'string') {
    const n = ports.get(target.port);
    if (n === undefined) return undefined;
    const copy = structuredClone(p);
    (copy.httpGet ?? copy.tcpSocket)!.port = n;
    return copy;
  }
  return target.port === statusPort ? undefined : p;
}

/** The JSON of ISTIO_KUBE_APP_PROBERS, or '' when no container has a probe to forward. */
export function dumpAppProbers(pod: Pod, statusPort: number): string {
  const out: Record<string, unknown> = {};
  for (const c of allContainers(pod)) {
    if (c.name === PROXY) continue;
    const u = proberURLs(c.name);
    const ports = new Map<string, number>();
    for (const p of c.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
    const add = (url: string, p: Prober | undefined): void => {
      const r = resolvePorts(p, ports, statusPort);
      if (r) out[url] = goOrdered(r, PROBER);
    };
    add(u.readyz, probeToProber(c.readinessProbe));
    add(u.livez, probeToProber(c.livenessProbe));
    add(u.startupz, probeToProber(c.startupProbe));
    add(u.prestopz, handlerToProber(c.lifecycle?.preStop));
    add(u.poststartz, handlerToProber(c.lifecycle?.postStart));
  }
  const keys = Object.keys(out).sort();
  if (keys.length === 0) return '';
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, out[k]])));
}

function rewriteHTTPGet(action: HTTPGetAction | undefined, url: string, port: number): HTTPGetAction {
  const a: HTTPGetAction = { ...(action ?? { port }), path: url, port };
  if (a.scheme === 'HTTPS') a.scheme = 'HTTP';
  return a;
}

function convertProbe(p: Probe | undefined, url: string, port: number): Probe | undefined {
  if (!p) return undefined;
  if (p.httpGet) return { ...p, httpGet: rewriteHTTPGet(p.httpGet, url, port) };
  if (p.tcpSocket || p.grpc) {
    const { tcpSocket: _t, grpc: _g, ...rest } = p;
    return { ...rest, httpGet: rewriteHTTPGet(undefined, url, port) };
  }
  return undefined;
}

function convertHandler(h: LifecycleHandler | undefined, url: string, port: number): LifecycleHandler | undefined {
  if (!h) return undefined;
  if (h.httpGet) return { ...h, httpGet: rewriteHTTPGet(h.httpGet, url, port) };
  if (h.tcpSocket) {
    const { tcpSocket: _t, ...rest } = h;
    return { ...rest, httpGet: rewriteHTTPGet(undefined, url, port) };
  }
  return undefined;
}

function rewriteContainer(c: Container, port: number): void {
  const u = proberURLs(c.name);
  c.readinessProbe = convertProbe(c.readinessProbe, u.readyz, port) ?? c.readinessProbe;
  c.livenessProbe = convertProbe(c.livenessProbe, u.livez, port) ?? c.livenessProbe;
  c.startupProbe = convertProbe(c.startupProbe, u.startupz, port) ?? c.startupProbe;
  for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) if (c[k] === undefined) delete c[k];
  if (c.lifecycle) {
    const pre = convertHandler(c.lifecycle.preStop, u.prestopz, port);
    if (pre) c.lifecycle.preStop = pre;
    const post = convertHandler(c.lifecycle.postStart, u.poststartz, port);
    if (post) c.lifecycle.postStart = post;
  }
}

/** Points every app container's probes at the status port (annotation override, else the mesh's). */
export function rewriteAppProbes(pod: Pod, defaultStatusPort: number): void {
  const ann = pod.metadata?.annotations ?? {};
  let port = defaultStatusPort;
  const v = ann['status.sidecar.istio.io/port'];
  // istiod logs and uses 0 when the annotation does not parse (annotation validation rejects that earlier).
  if (v !== undefined) port = /^-?\d+$/.test(v) ? Number(v) : 0;
  for (const c of allContainers(pod)) if (c.name !== PROXY) rewriteContainer(c, port);
}

/** Adds ISTIO_KUBE_APP_PROBERS; on re-injection merges the earlier map in (earlier entries win). */
export function mergeOrAppendProbers(previouslyInjected: boolean, env: EnvVar[], probers: string): EnvVar[] {
  if (previouslyInjected) {
    const idx = env.findIndex((e) => e.name === APP_PROBERS_ENV);
    if (idx >= 0) {
      try {
        const merged = { ...(JSON.parse(probers) as object), ...(JSON.parse(env[idx]!.value ?? '') as object) };
        const sorted = Object.fromEntries(Object.keys(merged).sort().map((k) => [k, (merged as Record<string, unknown>)[k]]));
        const out = [...env];
        out[idx] = { name: APP_PROBERS_ENV, value: JSON.stringify(sorted) };
        return out;
      } catch {
        return env;
      }
    }
  }
  return [...env, { name: APP_PROBERS_ENV, value: probers }];
}
