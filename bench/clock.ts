// Wall-clock epoch milliseconds with sub-millisecond precision. Handlers in bench/handlers stamp
// with the same expression, so put and start times compare on one clock.
export const epochMs = (): number => performance.timeOrigin + performance.now();
