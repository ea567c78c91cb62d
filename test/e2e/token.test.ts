import { describe, expect, it } from 'vitest';
import { makeCert } from '../helpers/certs.js';
import { details, detailsFile, newHome, runCli } from '../helpers/cli.js';
import { fileTokens, storeRows } from '../helpers/store.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';

const ep = useTlsEndpoint();

describe('nbwss token set', () => {
  it('reads the new token from standard input, never from argv', async () => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const r = await runCli(['token', 'set', 'LOCALHOST'], home.env, 'brand-new-token\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Stored the new token of localhost');
    expect(r.stderr + r.stdout).not.toContain('brand-new-token');
    expect(fileTokens(home)).toEqual({ localhost: 'brand-new-token' });
  });

  it.each([
    ['', 'token is empty'],
    ['   \n', 'token is blank'],
    ["it's\n", 'apostrophe'],
    ['a\u0001b', 'token contains a control character (U+0001)'],
  ])('refuses %j and keeps the old token (exit 3)', async (input, why) => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const r = await runCli(['token', 'set', 'localhost'], home.env, input);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(why);
    expect(fileTokens(home)).toEqual({ localhost: 'tok-Secret-123' });
  });

  it('an unknown host: exit 7, before reading any secret', async () => {
    // A store with one entry, then a key file that would fail if it were read: exit 7 proves the order.
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const r = await runCli(['token', 'set', 'nope.test'], { ...home.env, NBWSS_SECRET_KEY_FILE: '/dev/zero' }, 'x\n');
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Error: no entity was found');
    const known = await runCli(['token', 'set', 'localhost'], { ...home.env, NBWSS_SECRET_KEY_FILE: '/dev/zero' }, 'x\n');
    expect(known.code).toBe(8); // the same key file fails once a secret is really needed
  });
});

describe('nbwss add --replace', () => {
  it('re-adds an existing host with new details and token, keeping its state', async () => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes', '--deactivated'], home.env)).code).toBe(0);
    const renewed = makeCert();
    ep.server.setCert(renewed);
    const r = await runCli(
      ['add', '--replace', '--file', detailsFile(details({ url: ep.server.url('/v2'), token: 'renewed-token', groupId: 'sg9', priority: 4 })), '--yes'],
      home.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Replaced localhost (group sg9, priority 4, DEACTIVATED)');
    const shown = JSON.parse((await runCli(['show', 'localhost', '--json', '--show-token'], home.env)).stdout);
    expect(shown).toMatchObject({
      url: ep.server.url('/v2'),
      groupId: 'sg9',
      priority: 4,
      state: 'DEACTIVATED',
      token: 'renewed-token',
      fingerprint: renewed.fingerprint,
    });
    ep.server.setCert(ep.cert);
  });

  it('without --replace the same details are refused (exit 6) and nothing changes', async () => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const r = await runCli(['add', '--file', detailsFile(details({ url: ep.server.url(), token: 'other' })), '--yes'], home.env);
    expect(r.code).toBe(6);
    expect(fileTokens(home)).toEqual({ localhost: 'tok-Secret-123' });
  });

  it('a replacement whose certificate is refused keeps the old token and pin', async () => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const r = await runCli(
      ['add', '--replace', '--file', detailsFile(details({ url: ep.server.url(), token: 'other' })), '--fingerprint', makeCert().fingerprint],
      home.env,
    );
    expect(r.code).toBe(5);
    expect(fileTokens(home)).toEqual({ localhost: 'tok-Secret-123' });
    expect(storeRows(home)[0]!.fingerprint).toBe(ep.cert.fingerprint);
  });

  it('adds hosts that do not exist yet', async () => {
    const home = newHome();
    const r = await runCli(['add', '--replace', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Added localhost');
  });
});
