import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateAnnotations } from '../../src/inject/annotations.js';
import { isCIDR } from '../../src/net/ip.js';

describe('annotation validation', () => {
  it('accepts valid values', () => {
    assert.doesNotThrow(() =>
      validateAnnotations({
        'traffic.sidecar.istio.io/includeOutboundIPRanges': '*',
        'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8,fd00::/8',
        'traffic.sidecar.istio.io/excludeInboundPorts': '80, 443',
        'sidecar.istio.io/interceptionMode': 'TPROXY',
        'sidecar.istio.io/proxyCPU': '500m',
        'status.sidecar.istio.io/port': '15021',
        'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\nproxyMetadata: {A: b}',
        'unrelated.example.com/x': 'anything',
      }),
    );
  });
  it('names every invalid annotation', () => {
    assert.throws(
      () => validateAnnotations({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': 'bad', 'traffic.sidecar.istio.io/excludeInboundPorts': '*' }),
      (e: Error) => /includeIPRanges invalid/.test(e.message) && /excludeInboundPorts invalid/.test(e.message) && /^2 errors occurred/.test(e.message),
    );
  });
  it('rejects a star where only include lists allow one, bad modes, quantities and ports', () => {
    const bad: Record<string, string> = {
      'traffic.sidecar.istio.io/excludeOutboundIPRanges': '*',
      'traffic.sidecar.istio.io/excludeOutboundPorts': 'abc',
      'sidecar.istio.io/interceptionMode': 'MAGIC',
      'sidecar.istio.io/proxyMemory': '12 potatoes',
      'status.sidecar.istio.io/port': '70000',
      'readiness.status.sidecar.istio.io/periodSeconds': '-1',
      'prometheus.istio.io/merge-metrics': 'maybe',
      'traffic.sidecar.istio.io/excludeInterfaces': 'eth0,,eth1',
    };
    for (const [k, v] of Object.entries(bad)) assert.throws(() => validateAnnotations({ [k]: v }), new RegExp(`annotation '${k.replace(/[./]/g, '\\$&')}'`), k);
  });
  it('validates proxy.istio.io/config as a ProxyConfig', () => {
    assert.throws(() => validateAnnotations({ 'proxy.istio.io/config': 'notAField: 1' }), /unknown field "notAField"/);
    assert.throws(() => validateAnnotations({ 'proxy.istio.io/config': 'discoveryAddress: nohostport' }), /invalid discovery address/);
    assert.throws(() => validateAnnotations({ 'proxy.istio.io/config': 'drainDuration: 5 minutes' }), /drainDuration/);
    assert.throws(() => validateAnnotations({ 'proxy.istio.io/config': '[a list]' }), /expected a map/);
  });
  it('parses CIDRs like netip.ParsePrefix', () => {
    for (const ok of ['10.0.0.0/8', '0.0.0.0/0', '::/0', '2001:db8::/32', '::ffff:1.2.3.4/128']) assert.ok(isCIDR(ok), ok);
    for (const no of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '1.2.3.4/08', 'fe80::1%eth0/64', ':::/1']) assert.ok(!isCIDR(no), no);
  });
});
