// Run before the tests: one clear line, instead of every test file failing, when redis-server is missing.
import { spawnSync } from 'node:child_process';

const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.error(
    'redis-server was not found on PATH: the tests start their own private redis-server; install it ' +
      '(Debian/Ubuntu: sudo apt-get install redis-server, macOS: brew install redis) and run npm test again',
  );
  process.exit(1);
}
