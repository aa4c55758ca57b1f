// One AdmissionReview through the validator (istio pkg/webhooks/validation/server): CREATE and UPDATE
// are validated (dry runs too), anything else is allowed; denials carry only a message.
import { decodeReview, denied, encodeReview } from '../server/admission.js';
import type { AdmissionRequest, AdmissionReview } from '../types.js';
import { validateObject, type Verdict } from './validate.js';

export function reviewValidation(body: unknown): { review: AdmissionReview; verdict?: Verdict; request?: AdmissionRequest } {
  const decoded = decodeReview(body);
  if (!decoded.ok) return { review: encodeReview(decoded, denied(decoded.message)) };
  const request = decoded.request;
  const op = request.operation;
  if (op !== 'CREATE' && op !== 'UPDATE') return { review: encodeReview(decoded, { allowed: true }), request };
  const verdict = validateObject(request.object);
  if (!verdict.allowed) return { review: encodeReview(decoded, denied(verdict.message ?? 'invalid')), verdict, request };
  return { review: encodeReview(decoded, verdict.warnings.length > 0 ? { allowed: true, warnings: verdict.warnings } : { allowed: true }), verdict, request };
}
