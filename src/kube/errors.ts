// Kubernetes API errors by HTTP status: client-node throws ApiException with `code`.

export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isForbidden = (err: unknown): boolean => statusCode(err) === 403;

/** A short message for logs: the Status message the API server sent, else the error's own. */
export function errorMessage(err: unknown): string {
  let body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // not a Status object
    }
  }
  const msg = (body as { message?: unknown } | null)?.message;
  if (typeof msg === 'string') return msg;
  return (err as Error | null)?.message ?? String(err);
}
