// Validators by `<group>/<Kind>`; every API version of a kind shares one.
import type { Obj, Report } from '../core.js';
import type { ConfigMeta } from '../validate.js';
import { validateDestinationRule } from './destination-rule.js';
import { validateGateway } from './gateway.js';
import { validateVirtualService } from './virtual-service.js';

export type KindValidator = (spec: Obj, meta: ConfigMeta) => Report;

export const VALIDATORS: Record<string, KindValidator> = {
  'networking.istio.io/VirtualService': validateVirtualService,
  'networking.istio.io/DestinationRule': validateDestinationRule,
  'networking.istio.io/Gateway': validateGateway,
};
