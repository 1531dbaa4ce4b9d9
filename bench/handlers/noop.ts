// The throughput job: does nothing, so what is measured is the worker and the qless core.
export default function noop(): void {}
