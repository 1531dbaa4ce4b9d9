// The pieces every bench report prints with: aligned tables and numbers that show a missing
// figure (NaN: a process gone, a run that could not be measured) as a dash.

/** Header, rule and rows; the first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

export const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export const mb = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(1));

/** A target's outcome; empty when it was not judged. */
export const verdict = (met: boolean | undefined): string => (met === undefined ? '' : met ? 'met' : 'MISSED');
