// The one time limit the supervisor puts on a promise (a Redis call, a hand-back, the shutdown's
// wait for hand-backs): Redis may be slow or gone, and the loop must go on without its answer.

/** Settles like `promise`, or rejects once `ms` have passed without an answer. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
