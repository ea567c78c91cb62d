import { describe, expect, it } from 'vitest';
import { makeCert } from '../helpers/certs.js';
import { details, detailsFile, newHome, runCli } from '../helpers/cli.js';
import { runInPty } from '../helpers/pty.js';
import { startHttpsServer } from '../helpers/servers.js';
import { fileTokens, storeRows } from '../helpers/store.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';

const ep = useTlsEndpoint();

describe('at a terminal', () => {
  it('add shows the certificate and saves once the administrator accepts it', async () => {
    const home = newHome();
    const s = runInPty(['add', '--file', detailsFile(details({ url: ep.server.url() }))], home.env);
    await s.waitFor('Trust this certificate and save localhost?');
    s.type('y\r');
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.output).toContain(ep.cert.fingerprint);
    expect(r.output).toContain('Added localhost');
    expect(r.output).toContain('Fetching the certificate of 127.0.0.1'); // the spinner, on a terminal only
    expect(fileTokens(home)).toEqual({ localhost: 'tok-Secret-123' });
  });

  it('add: declining saves nothing, exit 5', async () => {
    const home = newHome();
    const s = runInPty(['add', '--file', detailsFile(details({ url: ep.server.url() }))], home.env);
    await s.waitFor('Trust this certificate');
    s.type('n\r');
    const r = await s.done;
    expect(r.code).toBe(5);
    expect(r.output).toContain('was not accepted; nothing was saved');
    expect(storeRows(home)).toEqual([]);
    expect(fileTokens(home)).toEqual({});
  });

  it('add: Ctrl-C at the prompt writes nothing and exits 130', async () => {
    const home = newHome();
    const s = runInPty(['add', '--file', detailsFile(details({ url: ep.server.url() }))], home.env);
    await s.waitFor('Trust this certificate');
    s.type('\x03');
    const r = await s.done;
    expect(r.code).toBe(130);
    expect(r.output).toContain('Cancelled; nothing was changed.');
    expect(storeRows(home)).toEqual([]);
    expect(fileTokens(home)).toEqual({});
  });

  it('delete asks first; no keeps the entry (exit 130), yes deletes it; the table is aligned columns with an upper-case header', async () => {
    const home = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ url: ep.server.url() })), '--yes'], home.env)).code).toBe(0);
    const list = runInPty(['list'], home.env);
    expect((await list.done).output).toMatch(/HOST NAME +URL +GROUP ID +PRIORITY +STATE +CONNECTION STATE/);
    const no = runInPty(['delete', 'localhost'], home.env);
    await no.waitFor('Delete localhost (entry, pinned certificate and token)?');
    no.type('n\r');
    expect((await no.done).code).toBe(130);
    expect(storeRows(home)).toHaveLength(1);
    const yes = runInPty(['delete', 'localhost'], home.env);
    await yes.waitFor('Delete localhost');
    yes.type('y\r');
    expect((await yes.done).code).toBe(0);
    expect(storeRows(home)).toEqual([]);
    expect(fileTokens(home)).toEqual({});
  });
});

describe('the add wizard (no source, at a terminal)', () => {
  it('FILE: path, Server Information with the token masked, certificate, Add Host, activate', async () => {
    const home = newHome();
    const file = detailsFile(details({ url: ep.server.url(), token: 'wizard-token' }));
    const s = runInPty(['add'], home.env);
    await s.waitFor('where are the endpoint details?');
    s.type('\r'); // FILE is first
    await s.waitFor('File name');
    s.type('/no/such/file.json\r');
    await s.waitFor('no such file');
    // Clear the wrong path, then type the right one.
    s.type(`${'\u0015'.repeat(1) + '\b'.repeat(40) + file}\r`);
    await s.waitFor('Token: View?');
    s.type('y\r');
    await s.waitFor('wizard-token');
    await s.waitFor('Trust this certificate and Add Host localhost?');
    s.type('y\r');
    await s.waitFor('Activate now');
    s.type('n\r');
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.output).toContain('Server Information');
    expect(r.output).toContain('********');
    expect(storeRows(home)).toEqual([{ host_name: 'localhost', state: 'DEACTIVATED', fingerprint: ep.cert.fingerprint }]);
    expect(fileTokens(home)).toEqual({ localhost: 'wizard-token' });
  });

  it('URL: the details are fetched over https', async () => {
    const ca = makeCert({ cn: 'Wizard CA', isCa: true, days: 60 });
    const leaf = makeCert({ cn: '127.0.0.1', sans: 'IP:127.0.0.1', ca });
    const web = await startHttpsServer(
      leaf,
      { '/d': (_q, res) => res.writeHead(200).end(JSON.stringify(details({ url: ep.server.url(), token: 'from-url' }))) },
      [ca],
    );
    try {
      const home = newHome();
      const s = runInPty(['add', '--ca-file', ca.certPath], home.env);
      await s.waitFor('where are the endpoint details?');
      s.type('\u001b[B'); // down to URL
      await s.waitFor(/❯ URL/);
      s.type('\r');
      await s.waitFor('URL:');
      s.type(`${web.url('/d')}\r`);
      await s.waitFor('Token: View?');
      s.type('\r'); // default: no
      await s.waitFor('Trust this certificate');
      s.type('y\r');
      await s.waitFor('Activate now');
      s.type('\r'); // default: yes
      const r = await s.done;
      expect(r.code).toBe(0);
      expect(r.output).not.toContain('from-url');
      expect(storeRows(home)[0]!.state).toBe('ACTIVATED');
      expect(fileTokens(home)).toEqual({ localhost: 'from-url' });
    } finally {
      await web.close();
    }
  });

  it('Ctrl-C anywhere writes nothing and exits 130', async () => {
    const home = newHome();
    const s = runInPty(['add'], home.env);
    await s.waitFor('where are the endpoint details?');
    s.type('\r');
    await s.waitFor('File name');
    s.type('\x03');
    const r = await s.done;
    expect(r.code).toBe(130);
    expect(storeRows(home)).toEqual([]);
  });
});
