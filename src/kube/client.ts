// Kubernetes API access: a kubeconfig file when given (--kubeconfig or KUBECONFIG), else the pod's
// in-cluster service account. No kubeconfig at all means local mode.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The cluster to talk to, or undefined when meshd runs without one. */
export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig | undefined {
  const kc = new KubeConfig();
  const file = path ?? env.KUBECONFIG;
  if (file) {
    kc.loadFromFile(file);
    return kc;
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
}
