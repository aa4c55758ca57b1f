// Gateway rules (istio ValidateGateway, validateServer).
import { isIP } from '../../net/ip.js';
import { isDNS1123Label, list, obj, parseProtocol, present, Report, str, validateIPAddress, validatePartialWildcard, validatePort, validateWildcardDomain, type Obj } from '../core.js';
import { isHTTPProtocol, isTLSProtocol, portText, serverTLS, serverTLSMode, unixAddressError } from '../server-tls.js';
import { u32 } from '../decode.js';
import type { ConfigMeta } from '../validate.js';

/** The host part of a `namespace/host` entry in a Gateway or Sidecar. */
export function hostnamePartErrors(hostname: string, isGateway: boolean): string[] {
  const errs: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) errs.push('short names (non FQDN) are not allowed');
  const e = validateWildcardDomain(hostname);
  if (e) {
    // As istiod does, a Sidecar's invalid non-IP host reports the error twice; a Gateway's IP host is valid.
    if (!isGateway) errs.push(e);
    if (!isIP(hostname)) errs.push(e);
  }
  const p = validatePartialWildcard(hostname);
  if (p) errs.push(p);
  return errs;
}

export function namespacedHostErrors(host: string, isGateway: boolean, gatewaySemantics: boolean): string[] {
  const slash = host.indexOf('/');
  if (slash === -1) return isGateway ? hostnamePartErrors(host, true) : ['host must be of form namespace/dnsName'];
  const [ns, name] = [host.slice(0, slash), host.slice(slash + 1)];
  const errs: string[] = [];
  if (ns === '' || name === '') errs.push('config namespace and dnsName in host entry cannot be empty');
  if (!isGateway) {
    const bare = ns.startsWith('~') ? ns.slice(1) : ns;
    if (bare !== '' && bare !== '*' && bare !== '.' && !isDNS1123Label(bare)) errs.push(`invalid namespace value "${ns}" in sidecar`);
  } else if (ns !== '*' && ns !== '.' && (ns !== '~' || !gatewaySemantics) && !isDNS1123Label(ns)) {
    errs.push(`invalid namespace value "${ns}" in gateway`);
  }
  return [...errs, ...hostnamePartErrors(name, isGateway)];
}

function server(s: Obj, gatewaySemantics: boolean, r: Report): void {
  const hosts = list(s.hosts).map(str);
  if (hosts.length === 0) r.error('server config must contain at least one host');
  for (const h of hosts) for (const e of namespacedHostErrors(h, true, gatewaySemantics)) r.error(e);
  const bind = str(s.bind);
  let portOk = true;
  if (!present(s.port)) {
    r.error('port is required');
    portOk = false;
  } else {
    const port = obj(s.port);
    const errs: string[] = [];
    if (!parseProtocol(str(port.protocol))) errs.push(`invalid protocol "${str(port.protocol)}", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`);
    if (u32(port.number) > 0 || !bind.startsWith('unix://')) {
      const e = validatePort(u32(port.number));
      if (e) errs.push(e);
    }
    if (u32(port.targetPort) > 0) errs.push('targetPort has no impact on Gateways');
    if (str(port.name) === '') errs.push(`port name must be set: ${portText(port)}`);
    for (const e of errs) r.error(e);
    portOk = errs.length === 0;
  }
  if (bind.startsWith('unix://')) {
    r.check(unixAddressError(bind.slice('unix://'.length)));
    if (present(s.port) && u32(obj(s.port).number) !== 0) r.error(`port number must be 0 for unix domain socket: ${portText(obj(s.port))}`);
  } else if (bind !== '') r.check(validateIPAddress(bind));
  serverTLS(s.tls, r);
  if (portOk) {
    const p = parseProtocol(str(obj(s.port).protocol));
    const tls = s.tls;
    if (isTLSProtocol(p) && !present(tls)) r.error('server must have TLS settings for HTTPS/TLS protocols');
    else if (!isTLSProtocol(p) && present(tls)) {
      const t = obj(tls);
      if (isHTTPProtocol(p)) {
        const passthrough = ['PASSTHROUGH', 'AUTO_PASSTHROUGH'].includes(serverTLSMode(t));
        if (!passthrough || str(t.caCertificates) !== '' || str(t.privateKey) !== '' || str(t.serverCertificate) !== '') r.error('server cannot have TLS settings for plain text HTTP ports');
      } else r.error('server cannot have TLS settings for non HTTPS/TLS ports');
    }
  }
}

export function validateGateway(spec: Obj, meta: ConfigMeta): Report {
  const r = new Report();
  const gatewaySemantics = meta.annotations['internal.istio.io/gateway-semantics'] === 'gateway';
  if (!isDNS1123Label(meta.name) && !gatewaySemantics) r.error(`invalid gateway name: "${meta.name}"`);
  const servers = list(spec.servers);
  if (servers.length === 0) r.error('gateway must have at least one server');
  for (const s of servers) {
    if (s === null) r.error('cannot have nil server');
    else server(obj(s), gatewaySemantics, r);
  }
  const portNames = new Set<string>();
  for (const s of servers) {
    if (s === null) {
      r.error('server may not be nil');
      continue;
    }
    const srv = obj(s);
    if (!present(srv.port)) continue;
    const port = obj(srv.port);
    const name = str(port.name);
    if (portNames.has(name)) r.error(`port names in servers must be unique: duplicate name ${name}`);
    portNames.add(name);
    if (!isHTTPProtocol(parseProtocol(str(port.protocol))) && obj(srv.tls).httpsRedirect === true) r.warn('tls.httpsRedirect should only be used with http servers');
  }
  return r;
}
