// Tests start their private redis-server through the same starter as the demo and benchmarks.
export * from '../../scripts/private-redis.ts';
