import { describe, expect, it } from 'vitest';
import { collect, details, detailsFile, newHome, runCli, spawnCli } from '../helpers/cli.js';
import { fileTokens, integrityOk, storeRows } from '../helpers/store.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';

const ep = useTlsEndpoint();

describe('concurrent runs (file secret store)', () => {
  it('20 parallel adds of different hosts all land, none loses its token', async () => {
    const home = newHome();
    const hosts = Array.from({ length: 20 }, (_, i) => `host${i}.test`);
    const results = await Promise.all(
      hosts.map((h) => runCli(['add', '--file', detailsFile(details({ hostName: h, token: `token-${h}`, url: ep.server.url() })), '--yes'], home.env)),
    );
    expect(results.map((r) => r.code)).toEqual(hosts.map(() => 0));
    expect(
      storeRows(home)
        .map((r) => r.host_name)
        .sort(),
    ).toEqual([...hosts].sort());
    expect(fileTokens(home)).toEqual(Object.fromEntries(hosts.map((h) => [h, `token-${h}`])));
  });

  it("10 parallel adds of the same host: exactly one lands, nine exit 6, the token is the winner's", async () => {
    const home = newHome();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        runCli(['add', '--file', detailsFile(details({ hostName: 'same.test', token: `token-${i}`, url: ep.server.url() })), '--yes'], home.env),
      ),
    );
    const codes = results.map((r) => r.code);
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(codes.filter((c) => c === 6)).toHaveLength(9);
    for (const r of results.filter((x) => x.code === 6)) expect(r.stderr).toContain('Error: the entity already exists');
    expect(storeRows(home).map((r) => r.host_name)).toEqual(['same.test']);
    expect(fileTokens(home)).toEqual({ 'same.test': `token-${codes.indexOf(0)}` });
  });

  it('parallel adds and deletes of different hosts leave every remaining entry with its token', async () => {
    const home = newHome();
    const first = Array.from({ length: 8 }, (_, i) => `keep${i}.test`);
    await Promise.all(
      first.map((h) => runCli(['add', '--file', detailsFile(details({ hostName: h, token: `t-${h}`, url: ep.server.url() })), '--yes'], home.env)),
    );
    const second = Array.from({ length: 8 }, (_, i) => `new${i}.test`);
    const runs = [
      ...second.map((h) => runCli(['add', '--file', detailsFile(details({ hostName: h, token: `t-${h}`, url: ep.server.url() })), '--yes'], home.env)),
      ...first.slice(0, 4).map((h) => runCli(['delete', h, '--yes'], home.env)),
    ];
    expect((await Promise.all(runs)).map((r) => r.code)).toEqual(runs.map(() => 0));
    const remaining = [...first.slice(4), ...second].sort();
    expect(
      storeRows(home)
        .map((r) => r.host_name)
        .sort(),
    ).toEqual(remaining);
    expect(fileTokens(home)).toEqual(Object.fromEntries(remaining.map((h) => [h, `t-${h}`])));
  });
});

describe('a run killed at any instant (kill -9)', () => {
  it('leaves the store consistent and no entry without its token', async () => {
    const home = newHome();
    // How long one add takes here, to spread the kills over its whole life.
    const t0 = performance.now();
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'warm.test', url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const span = performance.now() - t0;
    const runs = 16;
    let landed = 0;
    for (let i = 0; i < runs; i++) {
      const host = `killed${i}.test`;
      const child = spawnCli(['add', '--file', detailsFile(details({ hostName: host, token: `t-${host}`, url: ep.server.url() })), '--yes'], home.env);
      const done = collect(child);
      // Kill points spread from right after spawn to just past a normal run's end.
      const at = (span * 1.1 * i) / (runs - 1);
      const timer = setTimeout(() => child.kill('SIGKILL'), at);
      const r = await done;
      clearTimeout(timer);
      if (r.code === 0) landed++;
      expect(integrityOk(home)).toBe(true);
      const rows = storeRows(home).map((x) => x.host_name);
      const tokens = fileTokens(home);
      for (const h of rows) expect(tokens[h], `${h} has its token (kill after ${at.toFixed(0)} ms)`).toBeDefined();
      // The store still works after the kill.
      const list = await runCli(['list', '--json'], home.env);
      expect(list.code).toBe(0);
      expect(
        JSON.parse(list.stdout)
          .map((x: { hostName: string }) => x.hostName)
          .sort(),
      ).toEqual([...rows].sort());
    }
    // Some runs were killed before they finished; an orphan token of one is overwritten by re-adding the host.
    expect(landed).toBeLessThan(runs);
    const again = await runCli(['add', '--file', detailsFile(details({ hostName: 'killed0.test', token: 'fresh', url: ep.server.url() })), '--yes'], home.env);
    expect([0, 6]).toContain(again.code);
    if (again.code === 0) expect(fileTokens(home)['killed0.test']).toBe('fresh');
  }, 120_000);
});
