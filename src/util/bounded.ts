// Calls to another service on behalf of callers meshd does not yet trust (a TokenReview for every token
// presented): at most so many at once, each answered within a deadline, so that a flood of callers can
// neither pile up requests against the API server nor hold their own connections open while it is slow.

export class LimitError extends Error {}

export interface Bounds {
  /** Calls in flight at most; one more fails at once. */
  maxInFlight: number;
  /** How long a caller waits for an answer (the call itself keeps its slot until it settles). */
  timeoutMs: number;
  /** Names the call in errors. */
  what: string;
}

export function bounded<A extends unknown[], R>(fn: (...args: A) => Promise<R>, b: Bounds): (...args: A) => Promise<R> {
  let inFlight = 0;
  return (...args) => {
    if (inFlight >= b.maxInFlight) return Promise.reject(new LimitError(`too many ${b.what} requests in flight (${b.maxInFlight})`));
    inFlight++;
    const call = fn(...args).finally(() => inFlight--);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LimitError(`${b.what} did not answer within ${b.timeoutMs} ms`)), b.timeoutMs);
    });
    call.catch(() => undefined); // a late failure after the deadline is nobody's to handle
    return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
  };
}
