// Types shared across meshd. Kubernetes objects are kept as loose JSON shapes on purpose: meshd must
// carry every field a user wrote, including ones it does not model, through to its output.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
  [key: string]: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
  hostIP?: string;
  [key: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: unknown[];
  [key: string]: unknown;
}

export interface Probe {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  exec?: { command?: string[] };
  timeoutSeconds?: number;
  [key: string]: unknown;
}

export interface LifecycleHandler {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  [key: string]: unknown;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  ports?: ContainerPort[];
  env?: EnvVar[];
  resources?: Record<string, unknown>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: LifecycleHandler; postStart?: LifecycleHandler; [key: string]: unknown };
  securityContext?: SecurityContext;
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; [key: string]: unknown }>;
  imagePullSecrets?: Array<{ name: string }>;
  hostNetwork?: boolean;
  nodeName?: string;
  serviceAccountName?: string;
  dnsPolicy?: string;
  [key: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  [key: string]: unknown;
}

/** A Kubernetes LabelSelector (matchLabels and matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** The `config` key of the istio-sidecar-injector ConfigMap, as Istio's inject.Config reads it. */
export interface InjectorConfig {
  policy: string;
  alwaysInjectSelector: LabelSelector[];
  neverInjectSelector: LabelSelector[];
  injectedAnnotations: Record<string, string>;
  /** Template name -> Go template text. */
  templates: Record<string, string>;
  defaultTemplates: string[];
  aliases: Record<string, string[]>;
}

/** Values of the istio-sidecar-injector ConfigMap (Istio Helm values, as a JSON map). */
export type InjectorValues = Record<string, unknown>;

/** Istio MeshConfig and ProxyConfig, in their protobuf JSON (camelCase) form. */
export type MeshConfig = Record<string, unknown> & { defaultConfig?: ProxyConfig };
export type ProxyConfig = Record<string, unknown> & { proxyMetadata?: Record<string, string> };

/** How native sidecars are chosen, like istiod's ENABLE_NATIVE_SIDECARS. */
export type NativeSidecarMode = 'auto' | 'true' | 'false';

/** Everything the injector needs besides the pod itself. */
export interface InjectionSettings {
  config: InjectorConfig;
  values: InjectorValues;
  mesh: MeshConfig;
  revision: string;
  /** Whether native sidecars are on for this pod (already resolved from nodes and the mode). */
  nativeSidecars: boolean;
  /** ISTIO_META_* env from the webhook URL path (cluster, net, ...). */
  proxyEnvs: Record<string, string>;
  /** COMPLIANCE_POLICY of the control plane (e.g. fips-140-3), empty when unset. */
  compliancePolicy: string;
  /** OpenShift: the pod's namespace annotations, for UID/GID ranges. Undefined elsewhere. */
  openshiftNamespaceAnnotations?: Record<string, string>;
}

export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  namespace?: string;
  name?: string;
  operation?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  [key: string]: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { metadata?: Record<string, never>; code?: number; message?: string; reason?: string };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

// ---- Service registry and xDS (src/xds) ----

/** Istio's protocol of a service port, from appProtocol or the port-name prefix. */
export type PortProtocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'GRPC-Web' | 'HTTPS' | 'TLS' | 'TCP' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UDP' | 'UNSUPPORTED';

export interface ServicePort {
  name: string;
  port: number;
  protocol: PortProtocol;
  /** The workload port when the Service names it by number (a named targetPort is resolved per endpoint). */
  targetPort?: number;
}

/** A service as the mesh sees it: a Kubernetes Service or one host of a ServiceEntry. */
export interface MeshService {
  hostname: string;
  namespace: string;
  /** Kubernetes name (Service) or the ServiceEntry's name. */
  name: string;
  addresses: string[];
  ports: ServicePort[];
  labels: Record<string, string>;
  /** exportTo as written: '*' (default), '.', '~' or namespaces. */
  exportTo: string[];
  resolution: 'EDS' | 'DNS' | 'STATIC' | 'PASSTHROUGH';
  /** ServiceEntry with location MESH_EXTERNAL. */
  external: boolean;
  /** Workload selector (Kubernetes Service selector or ServiceEntry workloadSelector). */
  selector?: Record<string, string>;
}

export interface Locality {
  region: string;
  zone: string;
  subzone: string;
}

/** One address:port behind one service port. */
export interface MeshEndpoint {
  hostname: string;
  namespace: string;
  servicePort: number;
  address: string;
  port: number;
  labels: Record<string, string>;
  serviceAccount?: string;
  locality: Locality;
  health: 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';
  weight?: number;
  /** 'istio' when the workload runs a sidecar (security.istio.io/tlsMode). */
  tlsMode: string;
}

/** An Istio config object (VirtualService, DestinationRule, ...) as read from the API or files. */
export interface IstioConfig<S = Record<string, unknown>> {
  kind: string;
  name: string;
  namespace: string;
  creationTimestamp: string;
  spec: S;
}

/** The connected data plane, from the xDS node. */
export interface ProxyInfo {
  id: string;
  type: 'sidecar' | 'router';
  ip: string;
  /** `<pod>.<namespace>` part of the node id. */
  podName: string;
  namespace: string;
  labels: Record<string, string>;
  /** Proxyless gRPC (node metadata GENERATOR=grpc) rather than Envoy. */
  proxyless: boolean;
  metadata: Record<string, unknown>;
  /** Node metadata SERVICE_ACCOUNT, as the proxy claims it. */
  serviceAccount?: string;
  /**
   * The identity the stream authenticated with (token or mesh certificate) that matches the proxy's
   * namespace and service account (istiod's VerifiedIdentity); absent on the plain-text port.
   */
  verifiedIdentity?: VerifiedIdentity;
}

export interface VerifiedIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}
