import { describe, expect, it } from 'vitest';
import { fairShare, settling, shareDecision } from '../../src/daemon/share.js';

// How daemons of one shared store divide the groups: the coordinator's decisions, with no database.
const groups = (n: number) => Array.from({ length: n }, (_, i) => `g${String(i).padStart(2, '0')}`);
const held = (...g: string[]) => new Set(g);

describe('fairShare', () => {
  it('is ceil(groups / live daemons); 0 for a daemon whose key opens nothing; never divides by 0', () => {
    expect(fairShare(10, 3, true)).toBe(4);
    expect(fairShare(9, 3, true)).toBe(3);
    expect(fairShare(10, 1, undefined)).toBe(10);
    expect(fairShare(10, 0, true)).toBe(10);
    expect(fairShare(10, 2, false)).toBe(0);
    expect(fairShare(0, 2, true)).toBe(0);
  });
});

describe('shareDecision', () => {
  it('fewer than its share: take free groups in the candidates’ order, as many as the share lacks', () => {
    expect(shareDecision({ held: held('g01'), candidates: groups(6), live: 2, keyOk: true, waiting: false })).toEqual({
      kind: 'take',
      tryGroups: ['g00', 'g02', 'g03', 'g04', 'g05'],
      count: 2,
      share: 3,
    });
  });

  it('more than its share with others alive: hand back one group per round, the last by name', () => {
    expect(shareDecision({ held: held('g00', 'g05', 'g02', 'g01'), candidates: groups(6), live: 3, keyOk: true, waiting: false })).toEqual({
      kind: 'handBack',
      group: 'g05',
      share: 2,
    });
  });

  it('alone it keeps what it holds, even above its share; with a key that opens nothing it hands back even alone', () => {
    // Alone, share = all candidates: holding more means groups no longer wanted, which the round releases itself.
    expect(shareDecision({ held: held('g00', 'g01', 'g09'), candidates: groups(2), live: 1, keyOk: true, waiting: false })).toEqual({
      kind: 'keep',
      share: 2,
    });
    expect(shareDecision({ held: held('g00', 'g01'), candidates: groups(2), live: 1, keyOk: false, waiting: false })).toEqual({
      kind: 'handBack',
      group: 'g01',
      share: 0,
    });
  });

  it('at its share: keeps; while settling: keeps whatever it holds', () => {
    expect(shareDecision({ held: held('g00', 'g01'), candidates: groups(4), live: 2, keyOk: true, waiting: false })).toEqual({ kind: 'keep', share: 2 });
    expect(shareDecision({ held: held(), candidates: groups(4), live: 2, keyOk: true, waiting: true })).toEqual({ kind: 'keep', share: 2 });
    expect(shareDecision({ held: held(...groups(4)), candidates: groups(4), live: 2, keyOk: true, waiting: true })).toEqual({ kind: 'keep', share: 2 });
  });

  it('three daemons converge on 4/4/3 of 11 groups, one group moving per round, nothing held twice', () => {
    const candidates = groups(11);
    const daemons = [held(...candidates), held(), held()];
    for (let round = 0; round < 30; round++)
      for (const [i, mine] of daemons.entries()) {
        const d = shareDecision({ held: mine, candidates, live: 3, keyOk: true, waiting: false });
        if (d.kind === 'handBack') mine.delete(d.group);
        if (d.kind === 'take') {
          const lockedByOthers = new Set(daemons.filter((_, j) => j !== i).flatMap((o) => [...o]));
          for (const g of d.tryGroups.filter((x) => !lockedByOthers.has(x)).slice(0, d.count)) mine.add(g);
        }
      }
    expect(daemons.map((d) => d.size).sort()).toEqual([3, 4, 4]);
    expect(new Set(daemons.flatMap((d) => [...d])).size).toBe(11);
  });
});

describe('settling', () => {
  it('after the first connection it waits settleMs; after a reconnection graceMs', () => {
    expect(settling(1, 999, 1000, 5000)).toBe(true);
    expect(settling(1, 1000, 1000, 5000)).toBe(false);
    expect(settling(2, 4999, 1000, 5000)).toBe(true);
    expect(settling(2, 5000, 1000, 5000)).toBe(false);
  });
});
