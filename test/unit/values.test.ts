// Operator values as meshd's injector reads them: Helm values files and IstioOperators layered as istiod's
// chart and istioctl layer them (profile, compatibilityVersion, platform, pilot.*), scoped to what istiod's
// chart writes into the injector ConfigMap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultValues, helmValuesFromIstioOperator, mergeValues, normalizeValuesInput,
} from '../../src/config/values.js';

const iop = (spec: object): Record<string, unknown> =>
  ({ apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', spec });
const demoRequests = { cpu: '10m', memory: '40Mi' };

describe('normalizeValuesInput', () => {
  const rows: { name: string; input: Record<string, unknown>; want: (v: any) => void }[] = [
    {
      name: 'IstioOperator values.profile: demo',
      input: iop({ values: { profile: 'demo' } }),
      want: (v) => assert.deepEqual(v.global.proxy.resources.requests, demoRequests),
    },
    {
      name: 'IstioOperator spec.profile: demo',
      input: iop({ profile: 'demo' }),
      want: (v) => assert.deepEqual(v.global.proxy.resources.requests, demoRequests),
    },
    {
      name: 'IstioOperator spec.compatibilityVersion',
      input: iop({ compatibilityVersion: '1.26' }),
      want: (v) => assert.equal(v.pilot.env.ENABLE_NATIVE_SIDECARS, 'false'),
    },
    {
      name: 'IstioOperator openshift: CNI from the component and the platform',
      input: iop({ components: { cni: { enabled: true } }, values: { global: { platform: 'openshift' } } }),
      want: (v) => assert.deepEqual([v.pilot.cni.enabled, v.pilot.cni.provider, v.pilot.cni.cniBinDir],
        [true, 'multus', '/var/lib/cni/bin']),
    },
    {
      name: 'IstioOperator spec.hub / tag / revision',
      input: iop({ hub: 'r.example', tag: 1.2, revision: 'canary' }),
      want: (v) => assert.deepEqual([v.global.hub, v.global.tag, v.revision], ['r.example', '1.2', 'canary']),
    },
    {
      name: 'spec.values win over the IstioOperator translations',
      input: iop({ hub: 'a', values: { global: { hub: 'b' }, pilot: { cni: { enabled: true } } } }),
      want: (v) => assert.deepEqual([v.global.hub, v.pilot.cni.enabled], ['b', true]),
    },
    {
      name: 'Helm values: pilot.cni merged over the top-level cni, not replacing it',
      input: {
        cni: { cniBinDir: '/x', provider: 'default' },
        pilot: { cni: { enabled: true, provider: 'multus' } },
      },
      want: (v) => assert.deepEqual(v.pilot.cni, { cniBinDir: '/x', provider: 'multus', enabled: true }),
    },
    {
      name: 'Helm values: flat env and pilot.env combine, pilot winning',
      input: { env: { A: '1', B: '1' }, pilot: { env: { B: '2' } } },
      want: (v) => assert.deepEqual(v.pilot.env, { A: '1', B: '2' }),
    },
    {
      name: 'Helm values: _internal_defaults_do_not_set under profile under given values',
      input: {
        _internal_defaults_do_not_set: { global: { hub: 'd', tag: 'd' }, env: { A: 'd' } },
        profile: 'demo',
        global: { tag: 'given' },
      },
      want: (v) => {
        assert.deepEqual([v.global.hub, v.global.tag, v.pilot.env.A], ['d', 'given', 'd']);
        assert.equal(v.global.proxy.resources.requests.cpu, '10m');
      },
    },
  ];
  for (const row of rows) {
    it(row.name, () => row.want(mergeValues(defaultValues(), normalizeValuesInput(row.input))));
  }

  it('reads the injector ConfigMap values JSON back unchanged', () => {
    const cm = {
      global: { hub: 'h' }, pilot: { cni: { enabled: true }, env: {} }, revision: 'x',
      sidecarInjectorWebhook: {}, gateways: { securityContext: {} },
    };
    assert.deepEqual(normalizeValuesInput(structuredClone(cm)), cm);
  });

  it('refuses unknown profiles, versions and platforms, as Istio does', () => {
    assert.throws(() => normalizeValuesInput({ profile: 'nope' }), /unknown profile nope/);
    assert.throws(() => normalizeValuesInput({ profile: '../values' }), /unknown profile/);
    assert.throws(() => normalizeValuesInput({ compatibilityVersion: '0.1' }), /unknown compatibility/);
    assert.throws(() => normalizeValuesInput({ global: { platform: 'mars' } }), /unknown platform mars/);
    assert.throws(() => normalizeValuesInput(iop({ profile: 'nope' })), /IstioOperator profile "nope"/);
  });
});

describe('helmValuesFromIstioOperator', () => {
  it('turns the pilot component off for the empty profile, the cni component into pilot.cni.enabled', () => {
    const of = (spec: object): any => helmValuesFromIstioOperator(iop(spec));
    assert.equal(of({ profile: 'empty' }).pilot.enabled, false);
    assert.deepEqual(of({ profile: 'ambient' }).pilot, { enabled: true, cni: { enabled: true } });
    assert.equal(of({}).defaultRevision, '', "istioctl's default profile blanks the base chart's");
  });
});
