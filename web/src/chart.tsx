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
}

const tzDate = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai');

export function TimeChart({ at, lines, summary, height = 220, name, unit }: { at: string[]; lines: ChartLine[]; summary: string; height?: number; name: string; unit?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const x = at.map((iso) => Date.parse(iso) / 1000);
    const bars = uPlot.paths.bars?.({ size: [0.8, 24] });
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height,
        tzDate,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? 0, min ?? 0) * 1.1] } },
        axes: [{ stroke: '#44515c' }, { stroke: '#44515c', size: 56, values: (_u, splits) => splits.map((v) => (unit ? `${v}` : Number.isInteger(v) ? String(v) : '')) }],
        series: [
          {},
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            ...(l.bars && bars ? { paths: bars, fill: `${l.color}99` } : {}),
            ...(l.dash ? { dash: l.dash } : {}),
            spanGaps: false,
            points: { show: false },
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
  }, [at, lines, height, unit]);
  return (
    <figure className="chart" data-chart={name}>
      <div ref={box} role="img" aria-label={summary} />
    </figure>
  );
}
