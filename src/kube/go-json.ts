// JSON in Go's struct field order for the core/v1 types whose serialized text Istio embeds in pod
// annotations and env values (proxy.istio.io/overrides, ISTIO_META_POD_PORTS, ISTIO_KUBE_APP_PROBERS).
// Those strings are compared byte for byte by tools and tests, so key order matters. Fields meshd does
// not know are kept, after the known ones, in their original order.
import { canonicalQuantity } from './quantity.js';
import { isObj } from '../util/json.js';

interface Shape {
  order: string[];
  nested?: Record<string, Shape | [Shape]>;
  /** Fields Go always writes (struct-valued fields without a pointer). */
  always?: Record<string, unknown>;
  quantities?: boolean;
}

const HTTP_GET: Shape = { order: ['path', 'port', 'host', 'scheme', 'httpHeaders'] };
const TCP_SOCKET: Shape = { order: ['port', 'host'] };
const GRPC: Shape = { order: ['port', 'service'] };
const EXEC: Shape = { order: ['command'] };
const HANDLER = { exec: EXEC, httpGet: HTTP_GET, tcpSocket: TCP_SOCKET, grpc: GRPC };
const PROBE: Shape = {
  order: ['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'],
  nested: HANDLER,
};
const LIFECYCLE_HANDLER: Shape = { order: ['exec', 'httpGet', 'tcpSocket', 'sleep'], nested: HANDLER };
const RESOURCE_LIST: Shape = { order: [], quantities: true };

export const CONTAINER_PORT: Shape = { order: ['name', 'hostPort', 'containerPort', 'protocol', 'hostIP'] };

export const PROBER: Shape = { order: ['httpGet', 'tcpSocket', 'grpc', 'timeoutSeconds'], nested: HANDLER };

export const CONTAINER: Shape = {
  order: [
    'name',
    'image',
    'command',
    'args',
    'workingDir',
    'ports',
    'envFrom',
    'env',
    'resources',
    'resizePolicy',
    'restartPolicy',
    'restartPolicyRules',
    'volumeMounts',
    'volumeDevices',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'lifecycle',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'imagePullPolicy',
    'securityContext',
    'stdin',
    'stdinOnce',
    'tty',
  ],
  always: { resources: {} },
  nested: {
    ports: [CONTAINER_PORT],
    env: [
      {
        order: ['name', 'value', 'valueFrom'],
        nested: {
          valueFrom: {
            order: ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'],
            nested: {
              fieldRef: { order: ['apiVersion', 'fieldPath'] },
              resourceFieldRef: { order: ['containerName', 'resource', 'divisor'] },
            },
          },
        },
      },
    ],
    resources: { order: ['limits', 'requests', 'claims'], nested: { limits: RESOURCE_LIST, requests: RESOURCE_LIST } },
    volumeMounts: [{ order: ['name', 'readOnly', 'recursiveReadOnly', 'mountPath', 'subPath', 'mountPropagation', 'subPathExpr'] }],
    livenessProbe: PROBE,
    readinessProbe: PROBE,
    startupProbe: PROBE,
    lifecycle: { order: ['postStart', 'preStop', 'stopSignal'], nested: { postStart: LIFECYCLE_HANDLER, preStop: LIFECYCLE_HANDLER } },
    securityContext: {
      order: [
        'capabilities',
        'privileged',
        'seLinuxOptions',
        'windowsOptions',
        'runAsUser',
        'runAsGroup',
        'runAsNonRoot',
        'readOnlyRootFilesystem',
        'allowPrivilegeEscalation',
        'procMount',
        'seccompProfile',
        'appArmorProfile',
      ],
      nested: { capabilities: { order: ['add', 'drop'] } },
    },
  },
};

/** Reorders `value` as Go's encoding/json would write the struct described by `shape`. */
export function goOrdered(value: unknown, shape: Shape): unknown {
  if (!isObj(value)) return value;
  const out: Record<string, unknown> = {};
  const keys = [...shape.order.filter((k) => k in value || (shape.always && k in shape.always)), ...Object.keys(value).filter((k) => !shape.order.includes(k))];
  for (const k of keys) {
    let v = k in value ? value[k] : shape.always?.[k];
    if (v === undefined || v === null) continue;
    if (shape.quantities && (typeof v === 'string' || typeof v === 'number')) v = canonicalQuantity(v);
    const sub = shape.nested?.[k];
    if (Array.isArray(sub) && Array.isArray(v)) v = v.map((x) => goOrdered(x, sub[0]));
    else if (sub && !Array.isArray(sub)) v = goOrdered(v, sub);
    out[k] = v;
  }
  return out;
}

/** Go's json.Marshal of a value of the given struct shape. */
export function goJSON(value: unknown, shape: Shape): string {
  return JSON.stringify(goOrdered(value, shape));
}

const shapes = new WeakMap<object, Shape>();

/** Records which Go struct an object stands for, so generic encoders (structToJSON) order it right. */
export function withShape<T extends object>(obj: T, shape: Shape): T {
  shapes.set(obj, shape);
  return obj;
}

/** Go's json.Marshal of any template value: struct-ordered when its shape is known, else as given. */
export function goJSONAny(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const shape = shapes.get(value);
    if (shape) return goJSON(value, shape);
  }
  return JSON.stringify(value ?? null);
}
