// ServiceEntry rules (istio ValidateServiceEntry).
import { isIP } from '../../net/ip.js';
import {
  list,
  obj,
  parseProtocol,
  present,
  Report,
  str,
  validateAlphaWorkloadSelector,
  validateExportTo,
  validateFQDN,
  validateIPSubnet,
  validateLabels,
  validatePartialWildcard,
  validatePort,
  validatePortName,
  validateProtocol,
  validateWildcardDomain,
  type Obj,
} from '../core.js';
import { enumValue, u32 } from '../decode.js';
import { isHTTPProtocol, isTLSProtocol } from '../server-tls.js';
import type { ConfigMeta } from '../validate.js';
import { workloadEntryRules } from './workload-entry.js';

const RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;
const LOCATIONS = ['MESH_EXTERNAL', 'MESH_INTERNAL'] as const;
const TCP_CLASS = new Set(['TCP', 'HTTPS', 'TLS', 'MONGO', 'REDIS', 'MYSQL']);

export function validateServiceEntry(spec: Obj, meta: ConfigMeta): Report {
  const r = new Report();
  const sel = validateAlphaWorkloadSelector(spec.workloadSelector, 'workload selector specified without labels');
  if (sel.errors.length > 0) return r.error(sel.errors[0]!);
  if (sel.warning) r.warn(`service entry: ${sel.warning}, will be applied to all services in namespace`);
  const resolution = enumValue(spec.resolution, RESOLUTIONS, 'istio.networking.v1alpha3.ServiceEntry.Resolution') ?? 'NONE';
  const location = enumValue(spec.location, LOCATIONS, 'istio.networking.v1alpha3.ServiceEntry.Location') ?? 'MESH_EXTERNAL';
  const hosts = list(spec.hosts).map(str);
  const addresses = list(spec.addresses).map(str);
  const endpoints = list(spec.endpoints);
  if (present(spec.workloadSelector) && present(spec.endpoints)) r.error('only one of WorkloadSelector or Endpoints is allowed in Service Entry');
  if (hosts.length === 0) r.error('service entry must have at least one host');
  for (const h of hosts) {
    if (h === '*') r.error(`invalid host ${h}`);
    else {
      r.check(validateWildcardDomain(h));
      const w = validatePartialWildcard(h);
      if (w && resolution !== 'DYNAMIC_DNS') r.warn(w);
    }
  }
  let cidr = false;
  for (const a of addresses) {
    cidr ||= a.includes('/');
    r.check(validateIPSubnet(a));
  }
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') r.error('CIDR addresses are allowed only for NONE/STATIC resolution types');
  const autoAllocate = resolution !== 'NONE' && meta.labels['networking.istio.io/enable-autoallocate-ip']?.toLowerCase() !== 'false' && addresses.length === 0;
  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  const ports = list(spec.ports);
  for (const item of ports) {
    if (item === null) {
      r.error('service entry port may not be null');
      continue;
    }
    const p = obj(item);
    const name = str(p.name);
    if (portNames.has(name)) r.error(`service entry port name "${name}" already defined`);
    portNames.add(name);
    if (portNumbers.has(u32(p.number))) r.error(`service entry port ${u32(p.number)} already defined`);
    portNumbers.add(u32(p.number));
    if (u32(p.targetPort) !== 0) r.check(validatePort(u32(p.targetPort)));
    if (addresses.length === 0 && !autoAllocate && (str(p.protocol) === '' || str(p.protocol) === 'TCP')) {
      r.warn('addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled');
    }
    r.check(validatePortName(name));
    r.check(validateProtocol(str(p.protocol)));
    r.check(validatePort(u32(p.number)));
  }
  switch (resolution) {
    case 'NONE':
      if (endpoints.length !== 0) r.error('no endpoints should be provided for resolution type none');
      if (present(spec.workloadSelector)) r.warn('workloadSelector should not be set when resolution mode is NONE');
      break;
    case 'STATIC':
      for (const e of endpoints) {
        if (e === null) r.error('endpoint cannot be nil');
        else workloadEntryRules(obj(e), portNames, false, r);
      }
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if (endpoints.length === 0) {
        for (const h of hosts) {
          const e = validateFQDN(h);
          if (e) {
            r.error(`hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode ${resolution}, ${e}`);
            break;
          }
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) r.error(`there must only be 0 or 1 endpoint for resolution mode ${resolution}`);
      for (const item of endpoints) {
        if (item === null) {
          r.error('endpoint cannot be nil');
          continue;
        }
        const e = obj(item);
        const addr = str(e.address);
        if (!isIP(addr) && validateFQDN(addr)) r.error(`endpoint address "${addr}" is not a valid FQDN or an IP address`);
        r.check(validateLabels(e.labels));
        for (const [name, port] of Object.entries(obj(e.ports))) {
          if (!portNames.has(name)) r.error(`endpoint port ${u32(port)} is not defined by the service entry`);
          r.check(validatePortName(name));
          r.check(validatePort(u32(port)));
        }
      }
      if (addresses.length > 0) {
        for (const item of ports) {
          if (item === null) {
            r.error('ports cannot be nil');
            continue;
          }
          if (TCP_CLASS.has(parseProtocol(str(obj(item).protocol)) ?? '')) {
            if (hosts.length > 1) r.warn('service entry can not have more than one host specified simultaneously with address and tcp port');
            break;
          }
        }
      }
      break;
    case 'DYNAMIC_DNS':
      if (hosts.length === 0) r.error(`at least one wildcard host must be provided for resolution type ${resolution}`);
      for (const h of hosts) if (!h.startsWith('*')) r.error(`host must be wildcarded for resolution mode ${resolution}`);
      if (addresses.length !== 0) r.error(`addresses cannot be set for resolution type ${resolution}. HTTP route domains will only be generatedfrom the hosts field values`);
      if (endpoints.length !== 0) r.error(`endpoints cannot be set for resolution type ${resolution}. Destination IP address determined from hostsfield values`);
      for (const item of ports) {
        if (item === null) {
          r.error('port cannot be nil');
          continue;
        }
        const p = parseProtocol(str(obj(item).protocol));
        if (p !== 'HTTP' && p !== 'TLS' && p !== 'GRPC' && p !== 'HTTP2') r.error(`only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type ${resolution}`);
      }
      if (location !== 'MESH_EXTERNAL' && location !== 'MESH_INTERNAL') r.error(`location must be MESH_EXTERNAL or MESH_INTERNAL for resolution type ${resolution}`);
      if (location === 'MESH_INTERNAL' && usesWaypoint(meta)) r.error(`location MESH_INTERNAL with resolution type ${resolution} is not supported when using waypoints`);
      break;
    default:
      r.error(`unsupported resolution type ${resolution}`);
  }
  if (resolution !== 'NONE' && hosts.length > 1) {
    for (const item of ports) {
      if (item === null) {
        r.error('ports cannot be nil');
        continue;
      }
      const p = parseProtocol(str(obj(item).protocol));
      if (!isHTTPProtocol(p) && !isTLSProtocol(p)) {
        r.error('multiple hosts provided with non-HTTP, non-TLS ports');
        break;
      }
    }
  }
  r.check(validateExportTo(meta.namespace, spec.exportTo, true, false));
  return r;
}

function usesWaypoint(meta: ConfigMeta): boolean {
  const v = meta.labels['istio.io/use-waypoint'];
  return v !== undefined && v !== '' && v.toLowerCase() !== 'none';
}
