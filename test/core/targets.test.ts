import { describe, expect, it } from 'vitest';
import type { EndpointSummary } from '../../src/core/store/db.js';
import { chooseTargets, type TargetInputs } from '../../src/daemon/targets.js';

// Which entries the daemon connects to, with which token: a pure function of the store's ACTIVATED entries, the host
// conflicts, the secret store and the tokens read before (src/daemon/targets.ts). The daemon's end-to-end test
// (test/e2e/daemon.test.ts, "secret store") runs the same rules with a real key file moved away.

const entry = (hostName: string, groupId = 'g1', priority = 1): EndpointSummary =>
  ({
    hostName,
    url: `wss://${hostName}/nbwss`,
    groupId,
    priority,
    state: 'ACTIVATED',
    pinType: 'spki',
    fingerprint: `FP-${hostName}`,
    spkiFingerprint: `SPKI-${hostName}`,
    notAfter: '2030-01-01T00:00:00.000Z',
    connectionState: 'DISCONNECTED',
  }) as EndpointSummary;

const inputs = (over: Partial<TargetInputs>): TargetInputs => ({
  entries: [],
  conflicts: [],
  account: (hostName) => `acct:${hostName}`,
  token: () => undefined,
  tokenSeen: () => undefined,
  ...over,
});

describe('chooseTargets', () => {
  it('an entry with a token is a target carrying everything a connection needs, by account', () => {
    const chosen = chooseTargets(inputs({ entries: [entry('a.test', 'g1', 2)], token: (account) => (account === 'acct:a.test' ? 'tok-a' : undefined) }));
    expect([...chosen.targets]).toEqual([
      [
        'acct:a.test',
        {
          hostName: 'a.test',
          url: 'wss://a.test/nbwss',
          groupId: 'g1',
          priority: 2,
          pinType: 'spki',
          fingerprint: 'FP-a.test',
          spkiFingerprint: 'SPKI-a.test',
          token: 'tok-a',
        },
      ],
    ]);
    expect(chosen).toMatchObject({ refused: [], keptTokens: 0, secretStoreError: '' });
  });

  it('an entry without a token is not a target: "no token in the secret store"', () => {
    const a = entry('a.test');
    const chosen = chooseTargets(inputs({ entries: [a, entry('b.test')], token: (account) => (account === 'acct:b.test' ? 'tok-b' : undefined) }));
    expect([...chosen.targets.keys()]).toEqual(['acct:b.test']);
    expect(chosen.refused).toEqual([{ entry: a, reason: 'no token in the secret store' }]);
  });

  it('one host under two names: neither is connected, and each says which two and what to do', () => {
    const a = entry('nb.test');
    const b = entry('NB.test.');
    const chosen = chooseTargets(inputs({ entries: [a, b, entry('c.test')], conflicts: [['NB.test.', 'nb.test']], token: () => 'tok' }));
    expect([...chosen.targets.keys()]).toEqual(['acct:c.test']);
    const reason = 'not connected: "NB.test." and "nb.test" are one host under two names; delete one (nbwss doctor)';
    expect(chosen.refused).toEqual([
      { entry: a, reason },
      { entry: b, reason },
    ]);
  });

  it("the secret store cannot be read: an endpoint seen before keeps its token (counted); one never read records the store's own words", () => {
    const seen = entry('seen.test');
    const fresh = entry('fresh.test');
    const chosen = chooseTargets(
      inputs({
        entries: [seen, fresh],
        token: () => {
          throw new Error('the key file /var/lib/nbwss/secrets.key is missing');
        },
        tokenSeen: (account) => (account === 'acct:seen.test' ? 'old-token' : undefined),
      }),
    );
    expect(chosen.targets.get('acct:seen.test')?.token).toBe('old-token');
    expect(chosen.targets.has('acct:fresh.test')).toBe(false);
    expect(chosen.refused).toEqual([{ entry: fresh, reason: 'secret store: the key file /var/lib/nbwss/secrets.key is missing' }]);
    expect(chosen.keptTokens).toBe(1);
    expect(chosen.secretStoreError).toBe('the key file /var/lib/nbwss/secrets.key is missing');
  });

  it('a token read now wins over the one read before (a replaced token is used at once)', () => {
    const chosen = chooseTargets(inputs({ entries: [entry('a.test')], token: () => 'new', tokenSeen: () => 'old' }));
    expect(chosen.targets.get('acct:a.test')?.token).toBe('new');
    expect(chosen.keptTokens).toBe(0);
  });
});
