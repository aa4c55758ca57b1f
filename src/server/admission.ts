// AdmissionReview decoding and encoding for admission.k8s.io v1 and v1beta1 (istio pkg/kube/adapter.go):
// the response carries the request's apiVersion/kind, and a body that is not a review gets an
// allowed:false response in the v1beta1 shape with no apiVersion, as istiod answers.
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from '../types.js';
import { isObj } from '../util/json.js';

export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'];

export type DecodedReview = { ok: true; apiVersion: string; kind: string; request: AdmissionRequest } | { ok: false; message: string };

/** Validates the envelope of an already JSON-parsed body. */
export function decodeReview(body: unknown): DecodedReview {
  if (!isObj(body)) return { ok: false, message: "couldn't get version/kind; json parse error: expected an object" };
  const { apiVersion, kind, request } = body;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') {
    return { ok: false, message: `Object 'Kind' is missing in '${truncate(JSON.stringify(body))}'` };
  }
  if (kind !== 'AdmissionReview' || !ADMISSION_VERSIONS.includes(apiVersion)) {
    return { ok: false, message: `no kind "${kind}" is registered for version "${apiVersion}"` };
  }
  if (!isObj(request)) return { ok: false, message: 'AdmissionReview has no request' };
  if (request.uid !== undefined && typeof request.uid !== 'string') return { ok: false, message: 'request.uid must be a string' };
  return { ok: true, apiVersion, kind, request: { ...request, uid: (request.uid as string | undefined) ?? '' } as AdmissionRequest };
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/** The review to send back: same apiVersion/kind as the request when it was understood. */
export function encodeReview(decoded: DecodedReview, response: Omit<AdmissionResponse, 'uid'>): AdmissionReview {
  if (!decoded.ok) return { response: { uid: '', ...response } };
  return { apiVersion: decoded.apiVersion, kind: decoded.kind, response: { uid: decoded.request.uid, ...response } };
}

export function denied(message: string, code?: number): Omit<AdmissionResponse, 'uid'> {
  return { allowed: false, status: { metadata: {}, ...(code !== undefined ? { code } : {}), message } };
}
