// Reads what a /metrics endpoint serves: a parser of the Prometheus text exposition format (0.0.4)
// that refuses what it does not understand, so tests look at samples, not substrings; and the
// probes' one-line JSON answers.

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family → its TYPE (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** A float as Prometheus reads one (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`not a sample value: ${JSON.stringify(line)}`);
  return value;
}

/** `{a="x",b="y\"z"}` at the start of `text`: the labels and what follows. */
function parseLabels(text: string, line: string): { labels: Labels; rest: string } {
  const labels: Labels = {};
  let at = 1;
  for (;;) {
    if (text[at] === '}') return { labels, rest: text.slice(at + 1) };
    const name = LABEL_NAME.exec(text.slice(at))?.[0];
    if (!name || text[at + name.length] !== '=' || text[at + name.length + 1] !== '"')
      throw new Error(`bad label in ${JSON.stringify(line)}`);
    at += name.length + 2;
    let value = '';
    for (;;) {
      const char = text[at];
      if (char === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
      at++;
      if (char === '"') break;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = text[at++];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else throw new Error(`bad escape in ${JSON.stringify(line)}`);
    }
    if (name in labels) throw new Error(`label ${name} twice in ${JSON.stringify(line)}`);
    labels[name] = value;
    if (text[at] === ',') at++;
    else if (text[at] !== '}') throw new Error(`expected , or } in ${JSON.stringify(line)}`);
  }
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ');
      if (keyword === 'TYPE') {
        if (types.has(name)) throw new Error(`TYPE of ${name} given twice`);
        types.set(name, rest.join(' '));
      }
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`not a sample: ${JSON.stringify(line)}`);
    let rest = line.slice(name.length);
    let labels: Labels = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const [valueText, timestamp, extra] = rest.trim().split(/\s+/);
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp)))
      throw new Error(`trailing text in ${JSON.stringify(line)}`);
    samples.push({ name, labels, value: parseValue(valueText ?? '', line) });
  }
  return { samples, types };
}

function matches(sample: Sample, name: string, labels: Labels): boolean {
  return sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
}

/** The samples of `name` whose labels include these. */
export function samplesOf(exposition: Exposition, name: string, labels: Labels = {}): Sample[] {
  return exposition.samples.filter((sample) => matches(sample, name, labels));
}

/** The one sample with exactly these labels, or undefined. */
export function sampleValue(exposition: Exposition, name: string, labels: Labels = {}): number | undefined {
  const found = exposition.samples.filter(
    (sample) => matches(sample, name, labels) && Object.keys(sample.labels).length === Object.keys(labels).length,
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** The sum of the samples of `name` whose labels include these. */
export function sumOf(exposition: Exposition, name: string, labels: Labels = {}): number {
  return samplesOf(exposition, name, labels).reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Every sample of `name` whose labels include `filter`, as `label=value,…` (the filter's labels
 * left out) → value: for comparing a whole counter with what the test expects.
 */
export function table(exposition: Exposition, name: string, filter: Labels = {}): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const sample of samplesOf(exposition, name, filter)) {
    const key = Object.entries(sample.labels)
      .filter(([label]) => !(label in filter))
      .map(([label, value]) => `${label}=${value}`)
      .join(',');
    rows[key] = sample.value;
  }
  return rows;
}

/** GET /metrics, parsed. */
export async function scrape(port: number): Promise<Exposition> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

export interface ProbeAnswer {
  status: number;
  body: { status: string; reason: string };
  /** The body as sent. */
  text: string;
}

/** GET a probe (/healthz, /readyz) and its one-line JSON body. */
export async function probe(port: number, path: string): Promise<ProbeAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as ProbeAnswer['body'], text };
}
