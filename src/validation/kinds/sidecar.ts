// Sidecar rules (istio ValidateSidecar).
import { list, obj, parseProtocol, present, Report, str, validateAlphaWorkloadSelector, validateFQDN, validateIPAddress, validatePort, validatePortName, validateProtocol, type Obj } from '../core.js';
import { enumValue, u32 } from '../decode.js';
import { isHTTPProtocol, isTLSProtocol, serverTLS, serverTLSMode, unixAddressError } from '../server-tls.js';
import { connectionPoolErrors } from '../traffic-policy.js';
import type { ConfigMeta } from '../validate.js';
import { namespacedHostErrors } from './gateway.js';
import { destinationErrors } from './virtual-service.js';

const CAPTURE_MODES = ['DEFAULT', 'IPTABLES', 'NONE'] as const;
const OUTBOUND_MODES = ['REGISTRY_ONLY', 'ALLOW_ANY'] as const;
/** MeshConfig's ALLOW_ANY_DYNAMIC_DNS, which only an integer can express in a Sidecar. */
const ALLOW_ANY_DYNAMIC_DNS = '3';

function ingress(items: unknown[], r: Report): void {
  const ports = new Set<number>();
  for (const item of items) {
    if (item === null) {
      r.error('sidecar: ingress may not be null');
      continue;
    }
    const i = obj(item);
    if (!present(i.port)) {
      r.error('sidecar: port is required for ingress listeners');
      continue;
    }
    const port = obj(i.port);
    if (u32(port.targetPort) > 0) r.error('targetPort has no impact on Sidecars');
    if (str(port.name) !== '') r.check(validatePortName(str(port.name)));
    r.check(validateProtocol(str(port.protocol)));
    r.check(validatePort(u32(port.number)));
    if (str(i.bind) !== '') r.check(validateIPAddress(str(i.bind)));
    if (ports.has(u32(port.number))) r.error('sidecar: ports on IP bound listeners must be unique');
    ports.add(u32(port.number));
    const ep = str(i.defaultEndpoint);
    if (ep !== '') {
      if (ep.startsWith('unix://')) r.check(unixAddressError(ep.slice('unix://'.length)));
      else {
        const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(ep);
        if (!m) r.error(`address ${ep}: missing port in address`);
        const host = m?.[1] ?? m?.[2] ?? '';
        if (host !== '' && !['127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) {
          r.error('sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset');
        }
        const p = m?.[3] ?? '';
        if (!/^[+-]?\d+$/.test(p)) r.error(`sidecar: defaultEndpoint port (${p}) is not a number: strconv.Atoi: parsing "${p}": invalid syntax`);
        else r.check(validatePort(Number(p)));
      }
    }
    if (present(i.tls)) {
      const tls = obj(i.tls);
      if (list(tls.subjectAltNames).length > 0) r.error('sidecar: subjectAltNames is not supported in ingress tls');
      if (tls.httpsRedirect === true) r.error('sidecar: httpsRedirect is not supported');
      if (str(tls.credentialName) !== '') r.error('sidecar: credentialName is not currently supported');
      if (list(tls.credentialNames).length > 0) r.error('sidecar: credentialNames is not currently supported');
      if (list(tls.tlsCertificates).length > 0) r.error('sidecar: tls_certificates is not currently supported');
      const mode = serverTLSMode(tls);
      if (mode === 'ISTIO_MUTUAL' || mode === 'AUTO_PASSTHROUGH') r.error(`configuration is invalid: cannot set mode to ${mode} in sidecar ingress tls`);
      if (!isTLSProtocol(parseProtocol(str(port.protocol)))) r.error('server cannot have TLS settings for non HTTPS/TLS ports');
      serverTLS(tls, r);
    }
    for (const e of connectionPoolErrors(i.connectionPool)) r.error(e);
    if (present(i.connectionPool) && present(obj(i.connectionPool).http) && !isHTTPProtocol(parseProtocol(str(port.protocol)))) {
      r.warn(`sidecar: HTTP connection pool settings are configured for port ${u32(port.number)} ("${str(port.name)}") but its protocol is not HTTP (${str(port.protocol)}); only TCP settings will apply`);
    }
  }
}

function egressPort(port: Obj, bind: string, captureMode: string, r: Report): void {
  if (str(port.name) !== '') r.check(validatePortName(str(port.name)));
  if (u32(port.number) === 0) {
    r.check(validateProtocol(str(port.protocol)));
    if (!bind.startsWith('unix://')) r.error('sidecar: ports with 0 value must have a unix domain socket bind address');
    else r.check(unixAddressError(bind.slice('unix://'.length)));
    if (captureMode !== 'DEFAULT' && captureMode !== 'NONE') r.error('sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners');
  } else {
    r.check(validateProtocol(str(port.protocol)));
    r.check(validatePort(u32(port.number)));
    if (bind !== '') r.check(validateIPAddress(bind));
  }
}

function egressHosts(hosts: string[], namespace: string, r: Report): void {
  const byNs = new Map<string, Set<string>>();
  for (const h of hosts) {
    const slash = h.indexOf('/');
    if (slash !== -1 && !h.startsWith('~')) {
      const ns = h.slice(0, slash) === '.' ? namespace : h.slice(0, slash);
      const svc = h.slice(slash + 1);
      const svcs = byNs.get(ns) ?? new Set<string>();
      byNs.set(ns, svcs);
      if (svc !== '*' ? svcs.has(svc) || svcs.has('*') : svcs.size !== 0) r.warn(`duplicated egress host: ${h}`);
      svcs.add(svc);
    }
    for (const e of namespacedHostErrors(h, false, false)) r.error(e);
  }
  if (byNs.get('*')?.has('*') && byNs.size !== 1) r.warn('`*/*` host select all resources, no other hosts can be added');
}

function outboundTrafficPolicy(tp: unknown, r: Report): void {
  if (!present(tp)) return;
  const t = obj(tp);
  const mode = enumValue(t.mode, OUTBOUND_MODES, 'istio.networking.v1alpha3.OutboundTrafficPolicy.Mode') ?? 'REGISTRY_ONLY';
  if (mode === ALLOW_ANY_DYNAMIC_DNS) return void r.error('sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig, not in Sidecar resource');
  if (!present(t.egressProxy)) return;
  if (mode !== 'ALLOW_ANY') return void r.error('sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode');
  const proxy = obj(t.egressProxy);
  r.check(validateFQDN(str(proxy.host)));
  if (!present(proxy.port)) return void r.error('sidecar: egress_proxy port must be non-nil');
  for (const e of destinationErrors(proxy)) r.error(e);
}

export function validateSidecar(spec: Obj, meta: ConfigMeta): Report {
  const r = new Report();
  const sel = validateAlphaWorkloadSelector(spec.workloadSelector, 'workload selector specified without labels');
  if (sel.errors.length > 0) return r.error(sel.errors[0]!);
  if (sel.warning) r.warn(`sidecar: ${sel.warning}, will be applied to all services in namespace`);
  const egress = list(spec.egress);
  const ingressItems = list(spec.ingress);
  if (egress.length === 0 && ingressItems.length === 0 && !present(spec.outboundTrafficPolicy) && !present(spec.inboundConnectionPool)) {
    return new Report().error('sidecar: empty configuration provided');
  }
  ingress(ingressItems, r);
  for (const e of connectionPoolErrors(spec.inboundConnectionPool)) r.error(e);
  const ports = new Set<number>();
  const uds = new Set<string>();
  let catchAll = false;
  egress.forEach((item, index) => {
    if (item === null) return void r.error('egress listener may not be null');
    const e = obj(item);
    if (!present(e.port)) {
      if (catchAll) return void r.error('sidecar: egress can have only one listener with empty port');
      if (index === egress.length - 1) catchAll = true;
      else r.error('sidecar: the egress listener with empty port should be the last listener in the list');
    } else {
      const port = obj(e.port);
      if (u32(port.targetPort) > 0) r.error('targetPort has no impact on Sidecars');
      const bind = str(e.bind);
      egressPort(port, bind, enumValue(e.captureMode, CAPTURE_MODES, 'istio.networking.v1alpha3.CaptureMode') ?? 'DEFAULT', r);
      if (u32(port.number) === 0) {
        if (uds.has(bind)) r.error('sidecar: unix domain socket values for listeners must be unique');
        uds.add(bind);
      } else {
        if (ports.has(u32(port.number))) r.error('sidecar: ports on IP bound listeners must be unique');
        ports.add(u32(port.number));
      }
    }
    const hosts = list(e.hosts).map(str);
    if (hosts.length === 0) r.error('sidecar: egress listener must contain at least one host');
    else egressHosts(hosts, meta.namespace, r);
  });
  outboundTrafficPolicy(spec.outboundTrafficPolicy, r);
  return r;
}
