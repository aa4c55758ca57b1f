// A case's call as the simulate tool takes it: simulation.Call's Go field names, only the fields the case
// sets, so the simulator's own Call.FillDefaults gives the rest (address 1.3.3.7, tls plaintext, path /,
// SNI from the host for tls, ALPN from the protocol for tls and mtls). An unknown field is an error
// rather than dropped: the simulator would not see it.
import type { CaseCall } from './cases.js';

const GO_FIELDS: Record<string, string> = {
  address: 'Address',
  port: 'Port',
  protocol: 'Protocol',
  tls: 'TLS',
  alpn: 'Alpn',
  sni: 'Sni',
  host: 'HostHeader',
  path: 'Path',
  headers: 'Headers',
  mode: 'CallMode',
  mtlsSecretConfigName: 'MtlsSecretConfigName',
  // Checks on the matched filter chain, which the tool turns into CustomListenerValidations.
  filterChainValidations: 'filterChainValidations',
};

export function toolCall(call: CaseCall): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(call)) {
    const go = GO_FIELDS[k];
    if (!go) throw new Error(`call field "${k}" is not one the simulator knows`);
    if (v !== undefined) out[go] = v;
  }
  return out;
}
