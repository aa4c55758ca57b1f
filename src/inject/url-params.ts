// Proxy env taken from the webhook URL path, e.g. /inject/cluster/c1/net/n1 (istio webhook.go
// parseInjectEnvs), so one injector can serve several clusters or networks.
const URL_PARAMETER_TO_ENV: Record<string, string> = { cluster: 'ISTIO_META_CLUSTER_ID', net: 'ISTIO_META_NETWORK' };

export function parseInjectEnvs(path: string): Record<string, string> {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const parts = trimmed.split('/');
  // parts: ['', 'inject', rest...]; anything shorter is plain /inject.
  let kv: string[] = [];
  if (parts.length >= 3) {
    const rest = parts.slice(2).join('/');
    if (rest.startsWith(':ENV:')) {
      // Deprecated form: /inject/:ENV:cluster=c1:ENV:net=n1
      for (const pair of rest.split(':ENV:').slice(1)) {
        const eq = pair.indexOf('=');
        if (eq > 0) kv.push(pair.slice(0, eq), pair.slice(eq + 1));
      }
    } else kv = rest.split('/').map((v, i) => (i % 2 === 1 ? v.replaceAll('--slash--', '/') : v));
  }
  const envs: Record<string, string> = {};
  for (let i = 0; i + 1 < kv.length; i += 2) {
    const k = kv[i]!;
    const env = URL_PARAMETER_TO_ENV[k] ?? k.toUpperCase();
    if (env !== '') envs[env] = kv[i + 1]!;
  }
  return envs;
}
