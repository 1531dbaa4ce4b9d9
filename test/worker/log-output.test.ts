// The worker's batched log output, in real processes writing to a real file: a line after a quiet
// spell is written at once, the lines close behind it are held until flushed or written by
// themselves shortly after, and none is lost at exit (process.exit included); every line carries
// pid and the base fields, and the process's own console output stays in order with them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../src/worker/log-output.ts', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'qless-log-output-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  pid: number;
  worker: string;
  msg: string;
  n?: number;
}

/** Runs an ES module script in a fresh Node process (TypeScript imports through tsx). */
function runScript(script: string): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/** Runs `body` in a fresh process whose stdout is a file; returns that file's lines, parsed. */
function run(name: string, body: string): { lines: Line[]; stderr: string } {
  const out = join(dir, `${name}.log`);
  const script = `
    import { openSync, readFileSync, writeSync } from 'node:fs';
    import { createWorkerLogger } from ${JSON.stringify(MODULE)};
    const fd = openSync(${JSON.stringify(out)}, 'a');
    const logger = createWorkerLogger({ level: 'info', base: { worker: 'w-0' }, fd });
    const written = () => readFileSync(${JSON.stringify(out)}, 'utf8').split('\\n').filter(Boolean).length;
    const note = (text) => writeSync(2, text + '\\n');
    ${body}
  `;
  const result = runScript(script);
  let lines: Line[] = [];
  try {
    lines = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Line);
  } catch {
    // no output file: the assertions below say so
  }
  return { lines, stderr: result.stderr };
}

test('the first line goes out at once; lines right after it wait for a flush, then go together', () => {
  const { lines, stderr } = run(
    'flush',
    `
    logger.info({ n: 1 }, 'one');
    note('first: ' + written());
    logger.info({ n: 2 }, 'two');
    logger.info({ n: 3 }, 'three');
    note('before flush: ' + written());
    logger.flush();
    note('after flush: ' + written());
  `,
  );
  assert.match(stderr, /first: 1/);
  assert.match(stderr, /before flush: 1/);
  assert.match(stderr, /after flush: 3/);
  assert.deepEqual(
    lines.map((line) => [line.msg, line.n, line.worker]),
    [
      ['one', 1, 'w-0'],
      ['two', 2, 'w-0'],
      ['three', 3, 'w-0'],
    ],
  );
  assert.equal(typeof lines[0].pid, 'number');
});

test('pending lines are written by themselves a moment later; a line after a quiet spell at once', () => {
  const { stderr } = run(
    'timer',
    `
    logger.info('first');
    logger.info('close behind');
    note('at once: ' + written());
    setTimeout(() => {
      note('later: ' + written());
      logger.info('after a quiet spell');
      note('then: ' + written());
    }, 300);
  `,
  );
  assert.match(stderr, /at once: 1/);
  assert.match(stderr, /later: 2/);
  assert.match(stderr, /then: 3/);
});

test('nothing is lost at exit, process.exit included', () => {
  const { lines } = run(
    'exit',
    `
    for (let n = 0; n < 2000; n++) logger.info({ n }, 'many');
    process.exit(3);
  `,
  );
  assert.equal(lines.length, 2000);
  assert.deepEqual(
    lines.map((line) => line.n),
    Array.from({ length: 2000 }, (_, n) => n),
  );
});

test('a pipe whose reader is slow gets every line, whole and in order', async () => {
  const script = `
    import { createWorkerLogger } from ${JSON.stringify(MODULE)};
    const logger = createWorkerLogger({ level: 'info', base: { worker: 'w-0' } });
    const filler = 'x'.repeat(200);
    for (let n = 0; n < 20000; n++) logger.info({ n, filler }, 'line');
    logger.flush();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Nobody reads for a while: the pipe fills up and the writer has to wait.
  child.stdout.pause();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdout.resume();
  const code = await new Promise((resolve) => child.once('close', resolve));
  assert.equal(code, 0);
  const lines = Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);
  assert.equal(lines.length, 20000);
  assert.ok(lines.every((line, n) => line.n === n && line.msg === 'line'));
});

test("the process's own output to stdout and stderr comes after the lines logged before it", () => {
  const out = join(dir, 'console.log');
  const script = `
    import { createWorkerLogger } from ${JSON.stringify(MODULE)};
    const logger = createWorkerLogger({ level: 'info', base: { worker: 'w-0' } });
    logger.info('job started');
    console.log(JSON.stringify({ msg: 'from the handler' }));
    logger.info('between');
    console.error(JSON.stringify({ msg: 'to stderr' }));
    logger.info('job ended');
  `;
  const fd = openSync(out, 'w');
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', fd, fd],
      timeout: 20_000,
    });
    assert.equal(result.status, 0);
  } finally {
    closeSync(fd);
  }
  const said = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as Line).msg);
  assert.deepEqual(said, ['job started', 'from the handler', 'between', 'to stderr', 'job ended']);
});

test('the job lines are the bytes pino writes for the same fields, but for the time', () => {
  const out = join(dir, 'job-lines.log');
  const odd = ['plain', 'quote " and \\ backslash', 'tab\tnewline\n', 'é ü → 😀', 'x'.repeat(60), ''];
  const script = `
    import { openSync } from 'node:fs';
    import { pino } from 'pino';
    import { createWorkerLogger, workerJobLines } from ${JSON.stringify(MODULE)};
    const fd = openSync(${JSON.stringify(out)}, 'a');
    const logger = createWorkerLogger({ level: 'info', base: { worker: ${JSON.stringify(odd[1])}, slot: 3 }, fd });
    const lines = workerJobLines(logger);
    if (workerJobLines(pino()) !== undefined) throw new Error('job lines for a logger made elsewhere');
    // A field that is not a string: nothing written, false (pino writes that line instead).
    if (lines.started('j', undefined, 'k') !== false || lines.ended('j', 'q', null, 'completed', 1) !== false)
      throw new Error('a job line written without a string queue or klass');
    for (const text of ${JSON.stringify(odd)}) {
      logger.info({ jid: text, queue: 'q-' + text, klass: 'k.' + text }, 'job started');
      lines.started(text, 'q-' + text, 'k.' + text);
      logger.info({ jid: 'j', queue: text, klass: 'k', outcome: 'completed', duration: 1.25 }, 'job ended');
      lines.ended('j', text, 'k', 'completed', 1.25);
      const settled = { outcome: 'settled-by-handler', duration: 0, settledBy: 'retry' };
      logger.info({ jid: 'j', queue: 'q', klass: text, ...settled }, 'job ended');
      lines.ended('j', 'q', text, 'settled-by-handler', 0, 'retry');
    }
  `;
  const result = runScript(script);
  assert.equal(result.status, 0, result.stderr);
  const written = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  assert.equal(written.length, odd.length * 6);
  const timeless = (line: string): string => line.replace(/^\{"level":30,"time":\d+,/, '{"level":30,"time":T,');
  for (let index = 0; index < written.length; index += 2) {
    assert.match(written[index], /^\{"level":30,"time":\d+,"pid":\d+,"worker":/);
    assert.equal(timeless(written[index + 1]), timeless(written[index]), `line ${index + 1}`);
  }
  const started = JSON.parse(written[6]) as Record<string, unknown>;
  assert.equal(started.jid, odd[1]);
  assert.equal(started.worker, odd[1]);
  assert.equal(started.slot, 3);
});

test('a lone surrogate (which no reply decoded from Redis holds) is escaped, not written raw as pino would', () => {
  const out = join(dir, 'job-lines-surrogate.log');
  const script = `
    import { openSync } from 'node:fs';
    import { createWorkerLogger, workerJobLines } from ${JSON.stringify(MODULE)};
    const fd = openSync(${JSON.stringify(out)}, 'a');
    const logger = createWorkerLogger({ level: 'info', base: { worker: 'w-0' }, fd });
    workerJobLines(logger).started('a\\ud800b', 'q', 'k');
  `;
  const result = runScript(script);
  assert.equal(result.status, 0, result.stderr);
  const line = readFileSync(out, 'utf8').trim();
  assert.ok(line.includes('"jid":"a\\ud800b"'), line);
  assert.equal((JSON.parse(line) as { jid: string }).jid, 'a\ud800b');
});
