// The environment of the processes a test starts (qless-worker, qless, npm run demo): the test's
// own, without anything that would point qless at another Redis (QLESS_*, REDIS_URL) or change
// how Node runs (NODE_OPTIONS), plus the port-6379 tripwire; then the test's own additions
// (a value of undefined removes a variable).
import { fileURLToPath } from 'node:url';

const TRIPWIRE = fileURLToPath(new URL('./no-6379.cjs', import.meta.url));

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('QLESS_') || key === 'REDIS_URL' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  env.NODE_OPTIONS = `--require ${JSON.stringify(TRIPWIRE)}`;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else if (key === 'NODE_OPTIONS') env.NODE_OPTIONS = `${env.NODE_OPTIONS} ${value}`;
    else env[key] = value;
  }
  return env;
}
