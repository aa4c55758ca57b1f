// Which workload a pod belongs to, derived from its controller owner reference the way istiod does
// (istio pkg/kube/util.go GetDeployMetaFromPod): ReplicaSet+pod-template-hash is a Deployment, a Job
// with a timestamp suffix is a CronJob, and so on.
import type { Pod } from '../types.js';

export interface WorkloadMeta {
  name: string;
  namespace: string;
  kind: string;
  apiVersion: string;
}

const CRONJOB_JOB_NAME = /^(.+)-\d{8,10}$/;

export function workloadOf(pod: Pod): WorkloadMeta {
  const meta = pod.metadata ?? {};
  const labels = meta.labels ?? {};
  const out: WorkloadMeta = { name: meta.name ?? '', namespace: meta.namespace ?? '', kind: 'Pod', apiVersion: 'v1' };
  if (meta.generateName) {
    const ref = (meta.ownerReferences ?? []).find((r) => r.controller === true);
    if (ref) {
      out.apiVersion = ref.apiVersion;
      out.kind = ref.kind;
      out.name = ref.name;
      const hash = labels['pod-template-hash'];
      const rolloutHash = labels['rollouts-pod-template-hash'];
      if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(hash)) {
        out.name = trimSuffix(ref.name, `-${hash}`);
        out.kind = 'Deployment';
      } else if (ref.kind === 'ReplicaSet' && rolloutHash && ref.name.endsWith(rolloutHash)) {
        out.name = trimSuffix(ref.name, `-${rolloutHash}`);
        out.kind = 'Rollout';
        out.apiVersion = 'v1alpha1';
      } else if (ref.kind === 'ReplicationController' && labels.deploymentconfig) {
        out.name = labels.deploymentconfig;
        out.kind = 'DeploymentConfig';
      } else if (ref.kind === 'Job') {
        const m = CRONJOB_JOB_NAME.exec(ref.name);
        if (m) {
          out.name = m[1]!;
          out.kind = 'CronJob';
          out.apiVersion = 'batch/v1';
        }
      }
    }
  }
  if (out.name === '') out.name = meta.name ?? '';
  return out;
}

function trimSuffix(s: string, suffix: string): string {
  return s.endsWith(suffix) ? s.slice(0, -suffix.length) : s;
}

