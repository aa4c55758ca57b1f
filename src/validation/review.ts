// One AdmissionReview through the validator (istio pkg/webhooks/validation/server): CREATE and UPDATE
// are validated (dry runs too), anything else is allowed; denials carry only a message.
import { decodeReview, denied, encodeReview } from '../server/admission.js';
import type { AdmissionReview } from '../types.js';
import { validateObject, type Verdict } from './validate.js';

export function reviewValidation(body: unknown): { review: AdmissionReview; verdict?: Verdict } {
  const decoded = decodeReview(body);
  if (!decoded.ok) return { review: encodeReview(decoded, { allowed: false, status: { metadata: {}, message: decoded.message } }) };
  const op = decoded.request.operation;
  if (op !== 'CREATE' && op !== 'UPDATE') return { review: encodeReview(decoded, { allowed: true }) };
  const verdict = validateObject(decoded.request.object);
  if (!verdict.allowed) return { review: encodeReview(decoded, denied(verdict.message ?? 'invalid')), verdict };
  return { review: encodeReview(decoded, verdict.warnings.length > 0 ? { allowed: true, warnings: verdict.warnings } : { allowed: true }), verdict };
}
