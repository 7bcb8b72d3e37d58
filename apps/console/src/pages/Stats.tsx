import { useEffect, useState } from 'preact/hooks';
import { api, errorText, isAbort } from '../api';
import { formatShort, msText, percent, secondsText } from '../format';
import { useLocation } from '../router';
import type { Stats as StatsData } from '../types';
import { ErrorBox, Loading, PageHeading } from '../ui';

type Window = '24h' | '7d';

export function Stats() {
  const where = useLocation();
  const window: Window = new URLSearchParams(where.search).get('window') === '7d' ? '7d' : '24h';
  const [stats, setStats] = useState<StatsData | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setError(undefined);
    setStats(undefined);
    api.stats(window, abort.signal).then(setStats, (e: unknown) => {
      if (!isAbort(e)) setError(errorText(e));
    });
    return () => abort.abort();
  }, [window, reloads]);

  return (
    <section>
      <div class="page-head">
        <PageHeading title="Stats" />
        <nav class="segmented" aria-label="Window">
          <a href="/console/stats?window=24h" aria-current={window === '24h' ? 'page' : undefined}>
            Last 24 hours
          </a>
          <a href="/console/stats?window=7d" aria-current={window === '7d' ? 'page' : undefined}>
            Last 7 days
          </a>
        </nav>
      </div>
      {error && <ErrorBox message={error} retry={() => setReloads((n) => n + 1)} />}
      {!stats && !error && <Loading what="stats" />}
      {stats && (
        <>
          <dl class="figures">
            <div>
              <dt>Calls</dt>
              <dd>{stats.total}</dd>
            </div>
            <div>
              <dt>Transfer rate</dt>
              <dd>{percent(stats.transferRate)}</dd>
            </div>
            <div>
              <dt>
                <abbr title="95th percentile">p95</abbr> time to first agent line
              </dt>
              <dd>{msText(stats.firstAgentLineP95Ms)}</dd>
            </div>
          </dl>
          <div class="charts">
            <CallsChart stats={stats} />
            <DurationChart stats={stats} />
          </div>
        </>
      )}
    </section>
  );
}

const W = 640;
const H = 260;
const M = { top: 12, right: 8, bottom: 36, left: 40 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/** A round axis maximum at or above `max` (1, 2, 5 × 10^n). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function YAxis({ max }: { max: number }) {
  const ticks = [0, max / 2, max].filter((t, i, all) => Number.isInteger(t) && all.indexOf(t) === i);
  return (
    <g class="axis" aria-hidden="true">
      {ticks.map((tick) => {
        const y = M.top + PLOT_H - (tick / max) * PLOT_H;
        return (
          <g key={tick}>
            <line class="grid" x1={M.left} x2={W - M.right} y1={y} y2={y} />
            <text x={M.left - 6} y={y} dy="0.32em" text-anchor="end">
              {tick}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function outcomeOrder(stats: StatsData): string[] {
  const totals = new Map<string, number>();
  for (const bucket of stats.buckets) for (const [outcome, n] of Object.entries(bucket.outcomes)) totals.set(outcome, (totals.get(outcome) ?? 0) + n);
  return [...totals.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => (a[0] === 'live' ? -1 : b[0] === 'live' ? 1 : b[1] - a[1] || a[0].localeCompare(b[0])))
    .map(([outcome]) => outcome);
}

/** A colour per outcome: 'live' its own, the others by their place among the rest. */
function colourClass(outcome: string, index: number, outcomes: string[]): string {
  if (outcome === 'live') return 'o-live';
  return `o-${(outcomes[0] === 'live' ? index - 1 : index) % 8}`;
}

function bucketLabel(start: string, stats: StatsData): string {
  const date = new Date(start);
  if (stats.window === '24h') return `${String(date.getHours()).padStart(2, '0')}:00`;
  return date.getHours() === 0 || stats.bucketMs >= 86_400_000 ? date.toLocaleDateString(undefined, { weekday: 'short' }) : '';
}

function CallsChart({ stats }: { stats: StatsData }) {
  const outcomes = outcomeOrder(stats);
  const sums = stats.buckets.map((b) => Object.values(b.outcomes).reduce((a, n) => a + n, 0));
  const max = niceMax(Math.max(0, ...sums));
  const n = Math.max(1, stats.buckets.length);
  const slot = PLOT_W / n;
  const barW = Math.max(1, slot * 0.8);
  const labelEvery = stats.window === '24h' ? 3 : 1;
  const id = 'chart-calls';
  const busiest = sums.length ? Math.max(...sums) : 0;
  return (
    <figure class="chart">
      <figcaption>Calls per {stats.bucketMs >= 3_600_000 ? `${stats.bucketMs / 3_600_000} h` : 'bucket'}, by outcome</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} data-testid="stats-chart" data-chart="calls">
        <title id={`${id}-t`}>Calls per bucket, stacked by outcome</title>
        <desc id={`${id}-d`}>
          {`${stats.total} calls from ${formatShort(stats.from)} to ${formatShort(stats.to)} in ${stats.buckets.length} buckets; the busiest had ${busiest}. Outcomes: ${outcomes.join(', ') || 'none'}. The table after the chart has every value.`}
        </desc>
        <YAxis max={max} />
        {stats.buckets.map((bucket, i) => {
          let y = M.top + PLOT_H;
          const x = M.left + i * slot + (slot - barW) / 2;
          return (
            <g key={bucket.start}>
              {outcomes.map((outcome, k) => {
                const value = bucket.outcomes[outcome] ?? 0;
                if (value <= 0) return null;
                const h = (value / max) * PLOT_H;
                y -= h;
                return (
                  <rect key={outcome} class={colourClass(outcome, k, outcomes)} x={x} y={y} width={barW} height={h}>
                    <title>{`${formatShort(bucket.start)}: ${value} ${outcome}`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 && (
                <text class="axis" x={M.left + i * slot + slot / 2} y={H - M.bottom + 16} text-anchor="middle" aria-hidden="true">
                  {bucketLabel(bucket.start, stats)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {outcomes.length > 0 && (
        <ul class="legend" aria-hidden="true">
          {outcomes.map((outcome, k) => (
            <li key={outcome}>
              <span class={`swatch ${colourClass(outcome, k, outcomes)}`} />
              {outcome}
            </li>
          ))}
        </ul>
      )}
      <table class="sr-only">
        <caption>Calls per bucket by outcome</caption>
        <thead>
          <tr>
            <th scope="col">Bucket start</th>
            {outcomes.map((o) => (
              <th scope="col" key={o}>
                {o}
              </th>
            ))}
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {stats.buckets.map((bucket, i) => (
            <tr key={bucket.start}>
              <th scope="row">{formatShort(bucket.start)}</th>
              {outcomes.map((o) => (
                <td key={o}>{bucket.outcomes[o] ?? 0}</td>
              ))}
              <td>{sums[i]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function durationLabels(bounds: number[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return bounds[0] !== undefined ? `< ${secondsText(bounds[0])}` : 'all';
    const lower = bounds[i - 1]!;
    const upper = bounds[i];
    return upper === undefined ? `≥ ${secondsText(lower)}` : `${secondsText(lower)}–${secondsText(upper)}`;
  });
}

function DurationChart({ stats }: { stats: StatsData }) {
  const { boundsSeconds, counts } = stats.durations;
  const labels = durationLabels(boundsSeconds, counts.length);
  const max = niceMax(Math.max(0, ...counts));
  const n = Math.max(1, counts.length);
  const slot = PLOT_W / n;
  const barW = Math.max(1, slot * 0.8);
  const id = 'chart-durations';
  return (
    <figure class="chart">
      <figcaption>Call durations</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} data-testid="stats-chart" data-chart="durations">
        <title id={`${id}-t`}>Histogram of call durations</title>
        <desc id={`${id}-d`}>{labels.map((label, i) => `${label}: ${counts[i] ?? 0}`).join('; ')}</desc>
        <YAxis max={max} />
        {counts.map((count, i) => {
          const h = (count / max) * PLOT_H;
          const x = M.left + i * slot + (slot - barW) / 2;
          return (
            <g key={i}>
              {count > 0 && (
                <rect class="o-0" x={x} y={M.top + PLOT_H - h} width={barW} height={h}>
                  <title>{`${labels[i]}: ${count}`}</title>
                </rect>
              )}
              <text class="axis" x={M.left + i * slot + slot / 2} y={H - M.bottom + 16} text-anchor="middle" aria-hidden="true">
                {labels[i]}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="sr-only">
        <caption>Calls by duration</caption>
        <thead>
          <tr>
            <th scope="col">Duration</th>
            <th scope="col">Calls</th>
          </tr>
        </thead>
        <tbody>
          {counts.map((count, i) => (
            <tr key={i}>
              <th scope="row">{labels[i]}</th>
              <td>{count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
