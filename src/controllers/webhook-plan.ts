// How meshd's webhook configurations should look, decided without I/O: the CA bundle in each of its
// webhooks, and for validation a failurePolicy of Fail once validation is known to answer. Only fields
// meshd owns change; a configuration already right yields no update.
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { errorMessage } from '../kube/errors.js';

/** The injection webhooks meshd serves are the ones whose names end like this (istiod's default). */
export const INJECTION_WEBHOOK_SUFFIX = 'sidecar-injector.istio.io';

export const revisionSelector = (revision: string): string => `istio.io/rev=${revision}`;

export function planMutating(cfg: V1MutatingWebhookConfiguration, caBundle: string): V1MutatingWebhookConfiguration | undefined {
  let changed = false;
  const webhooks = (cfg.webhooks ?? []).map((w) => {
    if (!w.name.endsWith(INJECTION_WEBHOOK_SUFFIX) || w.clientConfig.caBundle === caBundle) return w;
    changed = true;
    return { ...w, clientConfig: { ...w.clientConfig, caBundle } };
  });
  return changed ? { ...cfg, webhooks } : undefined;
}

export function planValidating(cfg: V1ValidatingWebhookConfiguration, caBundle: string, validationReady: boolean): V1ValidatingWebhookConfiguration | undefined {
  let changed = false;
  const webhooks = (cfg.webhooks ?? []).map((w) => {
    const failurePolicy = validationReady ? 'Fail' : w.failurePolicy;
    if (w.clientConfig.caBundle === caBundle && w.failurePolicy === failurePolicy) return w;
    changed = true;
    return { ...w, failurePolicy, clientConfig: { ...w.clientConfig, caBundle } };
  });
  return changed ? { ...cfg, webhooks } : undefined;
}

/** A Gateway every Istio validator refuses (no servers): the probe that validation is live. */
export const INVALID_GATEWAY_PROBE = { apiVersion: 'networking.istio.io/v1alpha3', kind: 'Gateway', metadata: { name: 'invalid-gateway' }, spec: {} };

/** Whether a dry-run create of the probe failed because a validating webhook denied it. */
export function probeDenied(err: unknown): boolean {
  return errorMessage(err).includes('denied the request');
}
