// `meshd validate -f` on what `istioctl validate` checks besides Istio config (istio istioctl/pkg/validate):
// Services (port names, appProtocol; errors), Deployments (canonical service labels; a warning) and
// IstioOperator objects (operator/pkg/apis/validation). One row per rule: input YAML, wanted output lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateStream } from '../../src/cli/validate.js';

const REQ = 'https://istio.io/latest/docs/ops/deployment/requirements/';

const service = (ns: string, ports: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  ports: ${ports}
`;
const deployment = (labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: ${labels}}
`;
const iop = (spec: string, top = '') => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: install, namespace: istio-system}
${top}spec: ${spec}
`;

interface Row {
  name: string;
  input: string;
  want: string[];
  invalid: number;
}

const ROWS: Row[] = [
  { name: 'Service: prefixed port names, UDP and appProtocol', input: service('app', '[{name: http-web, port: 80}, {name: GRPC, port: 81}, {name: dns, port: 53, protocol: UDP}, {name: x, port: 82, appProtocol: https}]'), want: ['✔ Service app/web'], invalid: 0 },
  { name: 'Service: a port name without a protocol prefix', input: service('app', '[{name: web, port: 80}]'), want: [`✘ Service app/web: service "web/app/:" port "web" does not follow the Istio naming convention. See ${REQ}`], invalid: 1 },
  { name: 'Service: an unnamed port', input: service('app', '[{port: 80}]'), want: [`✘ Service app/web: service "web/app/:" has an unnamed port. This is not recommended, See ${REQ}`], invalid: 1 },
  {
    name: 'Service: an appProtocol Istio does not know',
    input: service('app', '[{name: http, port: 80, appProtocol: kubernetes.io/h2c}]'),
    want: ['✘ Service app/web: service "web/app/:" doesn\'t follow Istio protocol selection. This is not recommended, See https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/'],
    invalid: 1,
  },
  {
    name: 'Service: every bad port listed',
    input: service('app', '[{name: web, port: 80}, {port: 81}]'),
    want: [`✘ Service app/web: 2 errors occurred:\n\t* service "web/app/:" port "web" does not follow the Istio naming convention. See ${REQ}\n\t* service "web/app/:" has an unnamed port. This is not recommended, See ${REQ}`],
    invalid: 1,
  },
  { name: 'Service: the Istio namespace is not checked', input: service('istio-system', '[{name: web, port: 80}]'), want: ['✔ Service istio-system/web'], invalid: 0 },
  { name: 'Deployment: canonical labels present', input: deployment('{app: web, version: v1}'), want: ['✔ Deployment app/web'], invalid: 0 },
  { name: 'Deployment: app.kubernetes.io labels count', input: deployment('{app.kubernetes.io/name: web, app.kubernetes.io/version: "1"}'), want: ['✔ Deployment app/web'], invalid: 0 },
  {
    name: 'Deployment: no version label is a warning, not an error',
    input: deployment('{app: web}'),
    want: ['✔ Deployment app/web', `  warning: deployment "web/app:" may not provide Istio metrics and telemetry labels: map["app":"web"]. See ${REQ}`],
    invalid: 0,
  },
  { name: 'Deployment: a label that is not a string', input: deployment('{app: web, version: 1}'), want: ['✘ Deployment app/web: .metadata.labels accessor error: contains non-string value in the map under key "version": 1 is of the type float64, expected string'], invalid: 1 },
  { name: 'List: its Services checked', input: `apiVersion: v1\nkind: List\nitems:\n- ${service('app', '[{port: 80}]').replace(/\n/g, '\n  ')}`, want: [`✘ Service app/web: service "web/app/:" has an unnamed port. This is not recommended, See ${REQ}`], invalid: 1 },
  { name: 'IstioOperator: a valid one', input: iop('{profile: demo, hub: docker.io/istio, tag: 1.28.0, revision: Canary-1, components: {ingressGateways: [{name: istio-ingressgateway, enabled: true}]}, values: {global: {proxy: {includeIPRanges: "10.0.0.0/8"}}}}'), want: ['✔ IstioOperator istio-system/install'], invalid: 0 },
  { name: 'IstioOperator: unknown spec field', input: iop('{profil: demo}'), want: ['✘ IstioOperator istio-system/install: could not unmarshal: json: unknown field "profil"'], invalid: 1 },
  { name: 'IstioOperator: field names match in any case, as encoding/json does', input: iop('{Profile: demo}'), want: ['✔ IstioOperator istio-system/install'], invalid: 0 },
  { name: 'IstioOperator: unknown component field', input: iop('{components: {pilot: {k8s: {replicas: 2}}}}'), want: ['✘ IstioOperator istio-system/install: could not unmarshal: json: unknown field "replicas"'], invalid: 1 },
  { name: 'IstioOperator: status is not a field of it', input: iop('{}', 'status: {}\n'), want: ['✘ IstioOperator istio-system/install: could not unmarshal: json: unknown field "status"'], invalid: 1 },
  { name: 'IstioOperator: an unknown top-level field', input: iop('{}', 'extra: 1\n'), want: ['✘ IstioOperator istio-system/install: unknown field "extra"'], invalid: 1 },
  { name: 'IstioOperator: hub as a number', input: iop('{hub: 5}'), want: ['✘ IstioOperator istio-system/install: could not unmarshal: json: cannot unmarshal number into Go struct field IstioOperatorSpec.spec.hub of type string'], invalid: 1 },
  { name: 'IstioOperator: revision not a DNS label', input: iop('{revision: canary.1}'), want: ['✘ IstioOperator istio-system/install: invalid revision specified: canary.1'], invalid: 1 },
  { name: 'IstioOperator: bad tag', input: iop('{tag: "1.28 beta"}'), want: ['✘ IstioOperator istio-system/install: bad tag: tag can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ`: 1.28 beta'], invalid: 1 },
  { name: 'IstioOperator: bad hub', input: iop('{hub: docker.io/Istio}'), want: ['✘ IstioOperator istio-system/install: bad hub: repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Istio/pilot'], invalid: 1 },
  { name: 'IstioOperator: gateway names are lower case', input: iop('{components: {egressGateways: [{name: Egress}]}}'), want: ['✘ IstioOperator istio-system/install: invalid value egressGateways.name: Egress'], invalid: 1 },
  {
    name: 'IstioOperator: a root-only target port',
    input: iop('{components: {ingressGateways: [{name: gw, k8s: {service: {ports: [{name: http, port: 80, targetPort: 80}]}}}]}}'),
    want: ['✘ IstioOperator istio-system/install: port http/80 in gateway gw invalid: targetPort is set to 80, which requires root. Set targetPort to be greater than 1024 or configure values.gateways.istio-ingressgateway.runAsRoot=true'],
    invalid: 1,
  },
  { name: 'IstioOperator: runAsRoot allows it', input: iop('{components: {ingressGateways: [{name: gw, k8s: {service: {ports: [{name: http, port: 80, targetPort: 80}]}}}]}, values: {gateways: {istio-ingressgateway: {runAsRoot: true}}}}'), want: ['✔ IstioOperator istio-system/install'], invalid: 0 },
  { name: 'IstioOperator: a bad inbound port', input: iop('{values: {global: {proxy: {includeInboundPorts: "80,http"}}}}'), want: ['✘ IstioOperator istio-system/install: global.proxy.includeInboundPorts : strconv.ParseInt: parsing "http": invalid syntax'], invalid: 1 },
  {
    name: 'IstioOperator: replicaCount with autoscaling warns',
    input: iop('{components: {pilot: {k8s: {replicaCount: 3}}}, values: {pilot: {autoscaleEnabled: true}}}'),
    want: ['✔ IstioOperator istio-system/install', '  warning: components.pilot.k8s.replicaCount should not be set when values.pilot.autoscaleEnabled is true'],
    invalid: 0,
  },
  { name: 'ConfigMap: not checked', input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\n', want: ['- ConfigMap app/c: not a kind istioctl validate checks, skipped'], invalid: 0 },
  { name: 'Istio config: a port that is not a number', input: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {servers: [{port: {number: http, name: http, protocol: HTTP}, hosts: ["*"]}]}\n', want: ["✘ Gateway default/g: cannot parse proto message: invalid character 'h' looking for beginning of value"], invalid: 1 },
];

describe('meshd validate: what istioctl validate checks', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const out = validateStream(row.input, 'test.yaml', 'default');
      assert.deepEqual(out.lines, row.want);
      assert.equal(out.invalid, row.invalid);
    });
  }
});

describe('meshd validate: Istio config decoded strictly, as istioctl does', () => {
  const gateway = (spec: string) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: ${spec}\n`;
  const servers = 'servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]';
  const rows = [
    { name: 'an unknown spec field', input: gateway(`{bogus: 1, ${servers}}`), want: ['✘ Gateway default/g: cannot parse proto message: unknown field "bogus" in istio.networking.v1alpha3.Gateway'] },
    { name: "a field by its proto name (jsonpb takes both)", input: gateway(`{${servers}, selector: {istio: ingressgateway}}`), want: ['✔ Gateway default/g'] },
    { name: 'export_to as well as exportTo', input: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec: {host: a, export_to: ["."]}\n', want: ['✔ DestinationRule default/d'] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(validateStream(row.input, 'test.yaml', 'default').lines, row.want));
});

describe('meshd validate: unreadable YAML', () => {
  it('names the file, line and column once', () => {
    const out = validateStream('a: [\n', 'bad.yaml', 'default');
    assert.equal(out.invalid, 1);
    assert.equal(out.lines.length, 1);
    assert.match(out.lines[0]!, /^✘ bad\.yaml:2:1: /);
  });
});
