// Validators by `<group>/<Kind>`; every API version of a kind shares one.
import type { Obj, Report } from '../core.js';
import type { ConfigMeta } from '../validate.js';
import { validatePeerAuthentication, validateRequestAuthentication } from './authentication.js';
import { validateAuthorizationPolicy } from './authorization-policy.js';
import { validateDestinationRule } from './destination-rule.js';
import { validateEnvoyFilter } from './envoy-filter.js';
import { validateProxyConfig, validateTelemetry, validateTrafficExtension, validateWasmPlugin } from './extensions.js';
import { validateGateway } from './gateway.js';
import { validateServiceEntry } from './service-entry.js';
import { validateSidecar } from './sidecar.js';
import { validateVirtualService } from './virtual-service.js';
import { validateWorkloadEntry, validateWorkloadGroup } from './workload-entry.js';

export type KindValidator = (spec: Obj, meta: ConfigMeta) => Report;

export const VALIDATORS: Record<string, KindValidator> = {
  'networking.istio.io/VirtualService': validateVirtualService,
  'networking.istio.io/DestinationRule': validateDestinationRule,
  'networking.istio.io/Gateway': validateGateway,
  'networking.istio.io/ServiceEntry': validateServiceEntry,
  'networking.istio.io/Sidecar': validateSidecar,
  'networking.istio.io/WorkloadEntry': validateWorkloadEntry,
  'networking.istio.io/WorkloadGroup': validateWorkloadGroup,
  'security.istio.io/AuthorizationPolicy': validateAuthorizationPolicy,
  'security.istio.io/RequestAuthentication': validateRequestAuthentication,
  'security.istio.io/PeerAuthentication': validatePeerAuthentication,
  'telemetry.istio.io/Telemetry': validateTelemetry,
  'extensions.istio.io/WasmPlugin': validateWasmPlugin,
  'extensions.istio.io/TrafficExtension': validateTrafficExtension,
  'networking.istio.io/ProxyConfig': validateProxyConfig,
  'networking.istio.io/EnvoyFilter': validateEnvoyFilter,
};
