// What `meshd [COMMAND] --help` prints (to stdout, exit status 0).

export const TOP_USAGE = `meshd: an Istio-compatible control plane for Kubernetes

usage: meshd COMMAND [FLAGS]

commands:
  serve      run the control plane: injection and validation webhooks, xDS, CA, health and metrics
  inject     inject sidecars into workload YAML offline (istioctl kube-inject)
  validate   check Istio config offline with the webhook's rules (istioctl validate)
  version    print meshd's version (also --version)

'meshd COMMAND --help' describes a command's flags.
`;

export const SERVE_USAGE = `usage: meshd serve [FLAGS]

Runs the control plane. Where it reads objects from:
  --local-dir DIR              local mode: Kubernetes and Istio objects from YAML files in DIR, re-read on
                               change; nothing is read from or written to a cluster unless --kubeconfig is
                               also given (KUBECONFIG and in-cluster credentials are ignored)
  --kubeconfig FILE            cluster mode with this kubeconfig. Without --local-dir, KUBECONFIG or the
                               pod's service account also select cluster mode (meshd then writes its CA
                               Secret, istio-ca-root-cert ConfigMaps, webhook caBundles and a leader Lease)

Settings (files override the ConfigMaps of --namespace):
  --values FILE                Helm values (values file, IstioOperator, or the ConfigMap's JSON)
  --mesh FILE                  mesh config (the istio ConfigMap's "mesh" key)
  --injector-config FILE       injector config (the istio-sidecar-injector ConfigMap's "config" key)
  --namespace NS               meshd's namespace (POD_NAMESPACE, default istio-system)
  --revision REV               control plane revision (REVISION, default "default")
  --native-sidecars MODE       auto|true|false (ENABLE_NATIVE_SIDECARS, default auto)

Listeners:
  --address ADDR               address every port binds (default 0.0.0.0; 127.0.0.1 to stay local)
  --webhook-port PORT          HTTPS webhooks (default 15017)
  --monitoring-port PORT       health, metrics and debug views (default 15014)
  --xds-port PORT              plain-text xDS (default 15010)
  --xds-tls-port PORT          xDS and the workload CA over TLS (default 15012)
  --tls-cert FILE --tls-key FILE   serving certificate to use instead of one meshd signs
  --ca-out FILE                where to write the roots of the certificate meshd signs, for a webhook's
                               caBundle or a client's --cacert (default: a new temporary file, logged)
  --tls-min-version 1.2|1.3    oldest TLS version accepted (default 1.2)

Timing (Go durations such as 500ms, 30s, 1m30s):
  --shutdown-delay D           keep serving this long after SIGTERM (default 5s; a plain number is seconds)
  --request-timeout D          longest time a client may take to send a request (default 30s)
  --debounce-after D           quiet time before an xDS push (PILOT_DEBOUNCE_AFTER, default 100ms)
  --debounce-max D             longest delay of an xDS push (PILOT_DEBOUNCE_MAX, default 10s)
  --domain SUFFIX              cluster domain (DOMAIN_SUFFIX, default cluster.local)
  --lease-duration D           leader election (default 30s)
  --renew-deadline D           leader election (default 15s)
  --retry-period D             leader election (default 7.5s)
`;

export const INJECT_USAGE = `usage: meshd inject -f FILE|- [-o FILE] [FLAGS]

Injects sidecars into the workloads of a YAML stream, as istioctl kube-inject does, without a cluster;
other objects are printed unchanged. istioctl's flag names are accepted beside meshd's.

  -f, --filename FILE          input YAML ("-": standard input)
  -o, --output FILE            write the result to FILE instead of standard output
  --injector-config FILE       injector config: the istio-sidecar-injector ConfigMap's "config" key
                               (default: derived from the values; meshd's templates fill missing ones)
  --injectConfigFile FILE      istioctl's flag: that config with templates, or a bare sidecar template
  --mesh, --meshConfigFile FILE
                               mesh config: the istio ConfigMap's "mesh" key (default: Istio's defaults)
  --values, --valuesFile FILE  Helm values: the ConfigMap's "values" JSON, a values file or an IstioOperator
  --local-dir DIR              read the istio and istio-sidecar-injector ConfigMaps (and Nodes) from DIR
  -i, --istioNamespace, --namespace NS
                               the control plane's namespace, whose ConfigMaps --local-dir provides
                               (POD_NAMESPACE, default istio-system)
  -r, --revision REV           control plane revision (REVISION, default "default")
  --native-sidecars MODE       auto|true|false (ENABLE_NATIVE_SIDECARS, default auto)
`;

export const VALIDATE_USAGE = `usage: meshd validate -f FILE|DIR|- [-n NAMESPACE]

Validates Istio objects with the validating webhook's rules, one line per object, as istioctl validate
does; exit status 1 when any object is invalid.

  -f, --filename FILE|DIR      YAML file, directory (its .yaml, .yml and .json files) or "-" for stdin
  -n, --namespace NS           namespace of objects that name none (default "default")
`;

const OFFLINE = 'meshd inject works offline; pass the ConfigMaps as files '
  + '(--meshConfigFile, --injectConfigFile, --valuesFile) or --local-dir';

export const INJECT_HINTS = {
  kubeconfig: OFFLINE,
  c: OFFLINE,
  context: 'meshd inject works offline; pass the ConfigMaps as files or --local-dir',
  meshConfigMapName: 'with --local-dir meshd reads the istio[-REV] ConfigMap; or pass --meshConfigFile',
  injectConfigMapName: 'with --local-dir meshd reads istio-sidecar-injector[-REV]; or use --injectConfigFile',
  webhookConfig: 'meshd inject renders the templates itself and calls no webhook',
  operatorFileName: 'pass the IstioOperator file as --valuesFile (its spec.values are used)',
};
