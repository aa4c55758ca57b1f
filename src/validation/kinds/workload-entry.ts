// WorkloadEntry and WorkloadGroup rules (istio ValidateWorkloadEntry, ValidateWorkloadGroup), and the
// endpoint rules ServiceEntry reuses for its STATIC endpoints.
import { isIP } from '../../net/ip.js';
import { list, obj, present, Report, str, validateFQDN, validateLabels, validatePort, validatePortName, type Obj } from '../core.js';
import { validateProbeHeaderName } from '../http-rules.js';
import { unixAddressError } from '../server-tls.js';
import { i32, u32 } from '../decode.js';
import type { ConfigMeta } from '../validate.js';

/** `servicePorts` is the ServiceEntry's port names when the entry is one of its endpoints. */
export function workloadEntryRules(we: Obj, servicePorts: Set<string> | undefined, allowFQDN: boolean, r: Report): void {
  const addr = str(we.address);
  if (addr === '') {
    if (str(we.network) === '') return void r.error('address is required');
    r.warn(`address is unset with network "${str(we.network)}"`);
  }
  const ports = obj(we.ports);
  const unix = addr.startsWith('unix://');
  if (unix) {
    r.check(unixAddressError(addr.slice('unix://'.length)));
    if (Object.keys(ports).length !== 0) r.error(`unix endpoint ${addr} must not include ports`);
  } else if (addr !== '' && !isIP(addr)) {
    if (!allowFQDN) r.error(`endpoint address "${addr}" is not a valid IP address`);
    else if (validateFQDN(addr)) r.error(`endpoint address "${addr}" is not a valid FQDN or an IP address`);
  }
  for (const [name, port] of Object.entries(ports)) {
    if (servicePorts && !servicePorts.has(name)) r.error(`endpoint port ${u32(port)} is not defined by the service entry`);
    r.check(validatePortName(name));
    r.check(validatePort(u32(port)));
  }
  r.check(validateLabels(we.labels));
  if (unix && servicePorts && servicePorts.size !== 1) r.error('exactly 1 service port required for unix endpoints');
}

export function validateWorkloadEntry(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  workloadEntryRules(spec, undefined, true, r);
  return r;
}

function probe(p: unknown, r: Report): void {
  if (!present(p)) return;
  const pr = obj(p);
  for (const f of ['periodSeconds', 'initialDelaySeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold']) {
    if (i32(pr[f]) < 0) r.error(`${f} must be non-negative`);
  }
  if (present(pr.httpGet)) {
    const h = obj(pr.httpGet);
    r.check(validatePort(u32(h.port)));
    const scheme = str(h.scheme);
    if (scheme !== '' && scheme !== 'HTTPS' && scheme !== 'HTTP') r.error('httpGet.scheme must be one of "HTTPS", "HTTP"');
    for (const header of list(h.httpHeaders)) {
      if (header === null) r.error('invalid nil header');
      else r.check(validateProbeHeaderName(str(obj(header).name)));
    }
  } else if (present(pr.tcpSocket)) r.check(validatePort(u32(obj(pr.tcpSocket).port)));
  else if (present(pr.exec)) {
    if (list(obj(pr.exec).command).length === 0) r.error('exec.command is required');
  } else r.error('unknown health check method <nil>');
}

export function validateWorkloadGroup(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  if (!present(spec.template)) return r.error('template is required');
  if (present(spec.metadata)) {
    const e = validateLabels(obj(spec.metadata).labels);
    if (e) return r.error(`invalid labels: ${e}`);
  }
  probe(spec.probe, r);
  return r;
}
