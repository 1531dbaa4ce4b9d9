// Readable times: absolute (local time zone, second precision), relative to now, durations, and
// a day's time statistics.
import type { TimeStats } from '../../client/index.ts';

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/** `2024-05-01 14:03:07` in the local time zone (TZ); qless stores seconds since the epoch. */
export function formatTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  return `${day} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** `850ms`, `12.5s`, `3m 20s`, `2h 5m`, `1d 3h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 1) return `${sign}${Math.round(s * 1000)}ms`;
  if (s < 60) return `${sign}${Number(s.toFixed(s < 10 ? 2 : 1))}s`;
  const whole = Math.floor(s);
  const [big, small, bigUnit, smallUnit] =
    whole < 3600
      ? [Math.floor(whole / 60), whole % 60, 'm', 's']
      : whole < 86400
        ? [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), 'h', 'm']
        : [Math.floor(whole / 86400), Math.floor((whole % 86400) / 3600), 'd', 'h'];
  return `${sign}${big}${bigUnit}${small === 0 ? '' : ` ${small}${smallUnit}`}`;
}

/** `3m 20s ago` or `in 45s`, by whole seconds. */
export function formatRelative(seconds: number, now: number): string {
  const delta = Math.round(seconds - now);
  if (delta === 0) return 'now';
  const span = formatDuration(Math.abs(delta));
  return delta < 0 ? `${span} ago` : `in ${span}`;
}

/** `3 jobs, mean 1.5s, std dev 250ms`, or `no samples`. */
export function formatTimeStats(stats: TimeStats): string {
  if (stats.count === 0) return 'no samples';
  const jobs = `${stats.count} job${stats.count === 1 ? '' : 's'}`;
  return `${jobs}, mean ${formatDuration(stats.mean)}, std dev ${formatDuration(stats.std)}`;
}

/** `2024-05-01 14:03:07 (3m 20s ago)`. */
export function formatMoment(seconds: number, now: number): string {
  return `${formatTime(seconds)} (${formatRelative(seconds, now)})`;
}
