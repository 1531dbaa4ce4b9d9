// `npm run lint`: Biome's linter and format check over the repo, clean only when they report
// nothing at all (infos too, which Biome's exit code lets pass), then no line longer than the
// formatter's width in any file Biome handles (the formatter cannot break strings or comments).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_COLUMNS = 120;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const biome = join(dirname(createRequire(import.meta.url).resolve('@biomejs/biome/package.json')), 'bin', 'biome');

function runBiome(args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [biome, ...args], { cwd: root, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout };
}

interface BiomeSummary {
  errors: number;
  warnings: number;
  infos: number;
}

/** Lint and format check; on any finding, Biome's own report is printed. */
function biomeIsClean(): boolean {
  // The version is pinned in package.json, so the shape of the JSON report does not move under us.
  const { status, stdout } = runBiome(['ci', '--colors=off', '--reporter=json', '--max-diagnostics=none', '.']);
  const { summary } = JSON.parse(stdout) as { summary: BiomeSummary };
  if (status === 0 && summary.errors + summary.warnings + summary.infos === 0) return true;
  spawnSync(process.execPath, [biome, 'ci', '--max-diagnostics=none', '.'], { cwd: root, stdio: 'inherit' });
  console.error(
    `lint: Biome found ${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} infos` +
      ' (npm run format writes the formatting)',
  );
  return false;
}

/** The files Biome formats and lints, as its verbose run lists them (its includes, .gitignore). */
function biomeFiles(): string[] {
  const { stdout } = runBiome(['format', '--colors=off', '--verbose', '--files-ignore-unknown=true', '.']);
  const list = /Files processed:\s*\n((?:\s*- .+\n)+)/.exec(stdout);
  const files = list ? list[1].split('\n').flatMap((line) => /^\s*- (.+)$/.exec(line)?.[1] ?? []) : [];
  if (!files.includes('package.json')) {
    throw new Error(`lint: could not read the list of files from \`biome format --verbose\`:\n${stdout}`);
  }
  return files;
}

/**
 * Lines over the width, as `file:line: N columns`. In Markdown a table row is exempt (Markdown has
 * no way to continue a row on the next line, and the formatter pads every row to the widest
 * cell), and so is a line of a fenced code block (a command there, such as an ACL rule, must stay
 * one line to be pasted as it is).
 */
function longLines(files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const markdown = file.endsWith('.md');
    let inFence = false;
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    lines.forEach((line, index) => {
      const fence = markdown && line.trimStart().startsWith('```');
      if (fence) inFence = !inFence;
      const exempt = markdown && (line.trimStart().startsWith('|') || (inFence && !fence));
      const columns = [...line].length;
      if (columns > MAX_COLUMNS && !exempt) found.push(`${file}:${index + 1}: ${columns} columns`);
    });
  }
  return found;
}

const clean = biomeIsClean();
const files = biomeFiles();
const long = longLines(files);
for (const line of long) console.error(line);
if (long.length > 0) console.error(`lint: ${long.length} lines over ${MAX_COLUMNS} columns (wrap them by hand)`);
if (!clean || long.length > 0) process.exit(1);
console.log(`lint: ${files.length} files clean, no line over ${MAX_COLUMNS} columns`);
