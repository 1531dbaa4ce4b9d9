// How a fault's figures are printed: one block per fault as it ends, and a table at the end.
import type { FaultResult } from './fault-run.ts';
import { STRANDED_AFTER_S, type Stranding } from './strand-watch.ts';

const count = (value: number): string => value.toLocaleString('en-US');
const seconds = (value: number | undefined): string => (value === undefined ? 'not drained' : `${value.toFixed(1)} s`);

/** The common figures of a fault, as `name value` pairs in report order. */
function figures(result: FaultResult): [string, string][] {
  const { tally } = result;
  const groups = Object.entries(tally.failedGroups)
    .map(([group, jobs]) => `${group} ${jobs}`)
    .join(', ');
  return [
    ['put', count(tally.put)],
    ['completed', count(tally.completed)],
    ['failed', groups ? `${count(tally.failed)} (${groups})` : count(tally.failed)],
    ['lost', count(tally.lost)],
    ['run twice', `${count(tally.runTwice)} (kills ${result.kills})`],
    ['left running', count(tally.running)],
    [`stranded past ${STRANDED_AFTER_S} s`, count(result.strandings.length)],
    ['longest unattended lock', `${(result.longest?.seconds ?? 0).toFixed(1)} s`],
    ['left waiting', count(tally.waiting)],
    ['drain', seconds(result.drainSeconds)],
  ];
}

export function formatFault(result: FaultResult): string {
  const { tally } = result;
  const lines = [`${result.name}: ${result.title}`];
  lines.push(
    `  ${figures(result)
      .map(([name, value]) => `${name} ${value}`)
      .join(' · ')}`,
  );
  for (const note of result.notes) lines.push(`  ${note}`);
  for (const check of result.checks) lines.push(`  ${check.ok ? 'ok' : 'FAILED'}: ${check.what}`);
  if (tally.unexpected > 0) lines.push(`  FAILED: ${tally.unexpected} jobs ended other than expected`);
  if (tally.completedUnrun > 0) lines.push(`  FAILED: ${tally.completedUnrun} jobs completed without running`);
  const describe = (what: string, stranding: Stranding): string =>
    `  ${what}: ${stranding.job ?? 'job'} ${stranding.jid} locked under ${stranding.worker}, unattended ` +
    `${stranding.seconds.toFixed(1)} s from ${new Date(stranding.since).toISOString().slice(11, 23)}`;
  for (const stranding of result.strandings.slice(0, 5)) lines.push(describe('stranded', stranding));
  if (result.strandings.length === 0 && result.longest) lines.push(describe('longest unattended', result.longest));
  for (const example of tally.examples) lines.push(`  e.g. ${example}`);
  lines.push(`  ${result.passed ? 'PASS' : `FAIL (files in ${result.dir})`}`);
  return lines.join('\n');
}

/** One row per fault, one column per figure. */
export function formatSummary(results: readonly FaultResult[]): string {
  const header = ['fault', ...figures(results[0]).map(([name]) => name), 'verdict'];
  const rows = results.map((result) => [
    result.name,
    ...figures(result).map(([, value]) => value.replace(/ \(.*\)$/, '')),
    result.passed ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
