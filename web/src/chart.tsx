/**
 * A time-series chart drawn by uPlot (a small, maintained canvas chart library) in Beijing time,
 * resized with its container. The canvas is described by `summary` for screen readers; the
 * figures themselves are in the tables next to each chart.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartLine {
  label: string;
  values: (number | null)[];
  color: string;
  /** Draw as bars (counts per bucket) rather than a line. */
  bars?: boolean;
  dash?: number[];
  /** Mark each value with a point: for series with gaps (latency of empty buckets), so a lone bucket shows. */
  points?: boolean;
}

const tzDate = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai');

/** A tick's label in Beijing time, 24-hour in both languages: the time, with the date once the range spans days. */
function tick(seconds: number, spanSeconds: number): string {
  const text = new Date(seconds * 1000 + 8 * 3600_000).toISOString();
  if (spanSeconds <= 86_400) return text.slice(11, 16);
  if (spanSeconds <= 7 * 86_400) return `${text.slice(5, 10)} ${text.slice(11, 16)}`;
  return text.slice(5, 10);
}

export function TimeChart({ at, lines, summary, height = 220, name, unit, timeLabel }: { at: string[]; lines: ChartLine[]; summary: string; height?: number; name: string; unit?: string; timeLabel: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const x = at.map((iso) => Date.parse(iso) / 1000);
    const span = (x.at(-1) ?? 0) - (x[0] ?? 0);
    const bars = uPlot.paths.bars?.({ size: [0.8, 24] });
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height,
        tzDate,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? 0, min ?? 0) * 1.1] } },
        axes: [{ stroke: '#44515c', values: (_u, splits) => splits.map((v) => tick(v, span)) }, { stroke: '#44515c', size: 56, values: (_u, splits) => splits.map((v) => (unit ? `${v}` : Number.isInteger(v) ? String(v) : '')) }],
        series: [
          { label: timeLabel, value: (_u, v) => (v === null ? '—' : `${tick(v, 0)}${span > 86_400 ? ` ${tick(v, 30 * 86_400)}` : ''}`) },
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            ...(l.bars && bars ? { paths: bars, fill: `${l.color}99` } : {}),
            ...(l.dash ? { dash: l.dash } : {}),
            spanGaps: false,
            points: { show: l.points ?? false, size: 5 },
          })),
        ],
      },
      [x, ...lines.map((l) => l.values)] as uPlot.AlignedData,
      element,
    );
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(280, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [at, lines, height, unit, timeLabel]);
  return (
    <figure className="chart" data-chart={name}>
      <div ref={box} role="img" aria-label={summary} />
    </figure>
  );
}
