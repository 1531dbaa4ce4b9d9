// How numbers and times read on the page: relative ("3 min ago") with the absolute time beside
// or in a tooltip.
const NUMBER = new Intl.NumberFormat('en-US');

export const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? NUMBER.format(value) : '–');

/** Seconds as `850 ms`, `12 s`, `4 min`, `3.2 h`, `2.1 d`. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.abs(seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 129600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** An epoch time (seconds) relative to now: `5 s ago`, `in 2 min`. */
export function ago(epochSeconds) {
  if (!epochSeconds) return '–';
  const delta = Date.now() / 1000 - epochSeconds;
  if (Math.abs(delta) < 1) return 'now';
  return delta > 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

/** The absolute local time of an epoch time (seconds): `2024-05-01 12:34:56`. */
export function absolute(epochSeconds) {
  if (!epochSeconds) return '';
  const date = new Date(epochSeconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export const bytes = (value) => (typeof value === 'number' ? `${(value / 1048576).toFixed(0)} MB` : '–');

/** First line of a message, cut to `max` characters. */
export function firstLine(text, max = 140) {
  const line = String(text ?? '').split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
