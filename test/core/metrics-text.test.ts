import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { renderScrapeGauges } from '../../src/daemon/metrics.js';

// The gauges /metrics computes at scrape time are printed by nbwss, not prom-client (10,000 series at 2,000 groups):
// the text must be what prom-client prints for the same series, escapes included.
describe('renderScrapeGauges', () => {
  it('prints what prom-client prints for the same series', async () => {
    const series = [
      { labels: { group: 'sg1' }, value: 0 },
      { labels: { group: 'a "quoted" \\ group\nwith a line break' }, value: 3 },
      { labels: { group: 'g3' }, value: 1.5 },
      { labels: { group: 'g4' }, value: Number.POSITIVE_INFINITY },
    ];
    const registry = new Registry();
    const g = new Gauge({ name: 'nbwss_outbox_pending', help: 'Notifications pending per group', labelNames: ['group'], registers: [registry] });
    for (const s of series) g.set(s.labels, s.value);
    const ours = renderScrapeGauges([{ name: 'nbwss_outbox_pending', help: 'Notifications pending per group', series: () => series }], undefined);
    expect(ours).toBe(`${await registry.metrics()}`);
  });

  it('two labels in the order given; several gauges separated by a blank line, as the registry separates its own', async () => {
    const text = renderScrapeGauges(
      [
        { name: 'a', help: 'A', series: () => [{ labels: { state: 'ACTIVATED', connection_state: 'CONNECTED' }, value: 2 }] },
        { name: 'b', help: 'B', series: () => [] },
      ],
      undefined,
    );
    expect(text).toBe('# HELP a A\n# TYPE a gauge\na{state="ACTIVATED",connection_state="CONNECTED"} 2\n\n# HELP b B\n# TYPE b gauge\n');
  });
});
