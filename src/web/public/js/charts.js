// Charts drawn by uPlot: completed/failed per minute over the last hour, and the wait/run time
// histograms of qless's statistics.
import uPlot from '../vendor/uplot.js';
import { html, useEffect, useRef } from '../vendor/preact-htm.js';

function cssColor(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function useChart(makeOptions, data, width) {
  const box = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    const element = box.current;
    const size = () => Math.max(200, Math.min(width ?? 10000, element.clientWidth));
    chart.current = new uPlot({ ...makeOptions(), width: size() }, data, element);
    const observer = new ResizeObserver(() => chart.current?.setSize({ width: size(), height: chart.current.height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);
  return box;
}

/** Completed and failed jobs per minute (60 values each, oldest first, the last one the current minute). */
export function ThroughputChart({ completed, failed, height = 120 }) {
  const now = Math.floor(Date.now() / 60000) * 60;
  const xs = completed.map((_, index) => now - (completed.length - 1 - index) * 60);
  const data = [xs, completed, failed];
  const axis = cssColor('--muted', '#888');
  const grid = cssColor('--line', '#ddd');
  const box = useChart(
    () => ({
      height,
      legend: { show: true },
      cursor: { points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false } },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 50 },
      ],
      series: [
        { label: 'minute' },
        {
          label: 'completed/min',
          stroke: cssColor('--ok', '#2a8'),
          fill: 'rgba(40,170,130,0.12)',
          width: 1.5,
          points: { show: false },
        },
        { label: 'failed/min', stroke: cssColor('--bad', '#d44'), width: 1.5, points: { show: false } },
      ],
    }),
    data,
  );
  return html`<div class="chart" ref=${box}></div>`;
}

/** One of qless's histograms: `buckets` are [label, count] from the first to the last non-empty bucket. */
export function HistogramChart({ buckets, label, height = 140 }) {
  const xs = buckets.map((_, index) => index);
  const data = [xs, buckets.map(([, count]) => count)];
  const labels = buckets.map(([name]) => name);
  const axis = cssColor('--muted', '#888');
  const grid = cssColor('--line', '#ddd');
  const box = useChart(
    () => ({
      height,
      legend: { show: false },
      cursor: { points: { show: false } },
      scales: {
        x: { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [
        {
          stroke: axis,
          grid: { show: false },
          ticks: { show: false },
          values: (_u, splits) => splits.map((value) => (Number.isInteger(value) ? (labels[value] ?? '') : '')),
        },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 50 },
      ],
      series: [
        {},
        {
          label,
          stroke: cssColor('--accent', '#36c'),
          fill: cssColor('--accent-soft', 'rgba(50,100,200,0.35)'),
          paths: uPlot.paths.bars({ size: [0.8, 40] }),
          points: { show: false },
        },
      ],
    }),
    data,
  );
  return html`<div class="chart" ref=${box}></div>`;
}
