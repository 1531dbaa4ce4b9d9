// Aligned text tables for people: one header row, columns padded to their widest cell.

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/** Visible width of a cell; code points, so accented names and `…` count once. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** The table as lines joined by newlines; the last column is not padded, so no line ends in spaces. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[index] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, index) => {
        const align = column.align ?? 'left';
        const last = index === columns.length - 1;
        const cell = cells[index] ?? '';
        return last && align === 'left' ? cell : pad(cell, widths[index], align);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)].join('\n');
}

/** Label/value pairs, labels padded to one width (`jid       abc`). */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const size = Math.max(0, ...fields.map(([label]) => width(label)));
  return fields
    .map(([label, value]) => {
      const [first, ...rest] = value.split('\n');
      const indent = ' '.repeat(size + 2);
      return [
        `${pad(label, size, 'left')}  ${first}`.trimEnd(),
        ...rest.map((line) => `${indent}${line}`.trimEnd()),
      ].join('\n');
    })
    .join('\n');
}

/** One line of at most `max` characters, for table cells holding free text (failure messages). */
export function shorten(text: string, max: number): string {
  const line = text.split('\n', 1)[0].trim();
  const chars = [...line];
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join('')}…`;
}

/** `3–4 of 9 jobs tagged red`; `none of 9 …` when --offset went past the end. */
export function pageRange(offset: number, shown: number, total: number, what: string): string {
  return `${shown === 0 ? 'none' : `${offset + 1}–${offset + shown}`} of ${total} ${what}`;
}

/**
 * A page of a listing: `none` (e.g. "no workers") when there is nothing at all, a line saying so
 * when --offset went past the end, else the table.
 */
export function renderPage(
  none: string,
  total: number,
  offset: number,
  rows: readonly unknown[],
  table: () => string,
): string {
  if (total === 0) return none;
  if (rows.length === 0) return `${none} at offset ${offset} (${total} in all)`;
  return table();
}
