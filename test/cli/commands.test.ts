import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { details, detailsFile, newHome } from '../helpers/cli.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';
import { injectedIO as io } from '../helpers/io.js';

// add, list, show, delete and config run in-process with injected IO, piped
// and at a terminal, with the exact output expected (beside the e2e tests).
const ep = useTlsEndpoint();

async function run(tty: boolean, args: string[], env: NodeJS.ProcessEnv) {
  const x = io(tty);
  const code = await main(args, x.streams, env);
  return { code, out: x.out(), err: x.err() };
}

describe.each([
  ['piped', false],
  ['at a terminal', true],
])('in-process, %s', (_mode, tty) => {
  it('add --yes: the certificate, what --yes trusted and what was saved on stderr; nothing on stdout', async () => {
    const h = newHome();
    const url = ep.server.url();
    const port = new URL(url).port;
    const c = new X509Certificate(ep.cert.cert);
    const r = await run(tty, ['add', '--file', detailsFile(details({ url, hostName: 'localhost' })), '--yes'], h.env);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    // At a terminal a spinner runs while the certificate is fetched (twice: when shown, and again just before saving).
    const spinner = `\r⠋ Fetching the certificate of 127.0.0.1:${port}…\r\u001b[2K`;
    const during = tty ? spinner : '';
    expect(r.err).toBe(
      [
        `Warning: hostName localhost differs from the host of the url (127.0.0.1); the certificate is fetched from the url (${url})`,
        `${during}Certificate presented by localhost (127.0.0.1:${port}):`,
        '  Subject:    CN=localhost',
        '  Issuer:     CN=localhost',
        '  SANs:       DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
        `  Validity:   ${new Date(c.validFrom).toISOString()} to ${new Date(c.validTo).toISOString()}`,
        `  SHA-256:    ${ep.cert.fingerprint}`,
        '  Trusted:    no — self-signed',
        '  Host match: yes',
        `Warning: trusting the certificate presented by localhost (SHA-256 ${ep.cert.fingerprint}) without asking, because of --yes`,
        `${during}Added localhost (group sg1, priority 1, ACTIVATED); token saved in the file secret store.`,
        '',
      ].join('\n'),
    );
  });

  it('show: the entry line by line, the token masked; the same text piped and at a terminal', async () => {
    const h = newHome();
    const url = ep.server.url();
    expect((await run(false, ['add', '--file', detailsFile(details({ url, hostName: 'localhost' })), '--yes'], h.env)).code).toBe(0);
    const json = JSON.parse((await run(false, ['show', 'localhost', '--json'], h.env)).out);
    const r = await run(tty, ['show', 'LOCALHOST.'], h.env);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      [
        'Host Name:        localhost',
        `URL:              ${url}`,
        'Group ID:         sg1',
        'Priority:         1',
        'State:            ACTIVATED',
        'Connection State: DISCONNECTED',
        'Token:            ******** (use --show-token to view)',
        'Pinned:           the certificate',
        `Pin SHA-256:      ${ep.cert.fingerprint}`,
        'Subject:          CN=localhost',
        'Issuer:           CN=localhost',
        'SANs:             DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
        `Valid:            ${json.certificate.notBefore} to ${json.certificate.notAfter}`,
        `Added:            ${json.createdAt}`,
        `Updated:          ${json.updatedAt}`,
        '',
      ].join('\n'),
    );
  });

  it('delete: without --yes and without a way to ask, refused (exit 2) and kept; with --yes deleted', async () => {
    const h = newHome();
    expect((await run(false, ['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'localhost' })), '--yes'], h.env)).code).toBe(0);
    const refused = await run(tty, ['delete', 'localhost'], h.env);
    expect(refused).toEqual({
      code: 2,
      out: '',
      err: 'Error: Not deleted: deleting localhost needs confirmation, and there is no terminal to ask on\nPass --yes to delete without asking.\n',
    });
    expect((await run(false, ['list', '--names'], h.env)).out).toBe('localhost\n');
    expect(await run(tty, ['delete', 'localhost', '--yes'], h.env)).toEqual({ code: 0, out: '', err: 'Deleted localhost.\n' });
    expect((await run(false, ['list', '--names'], h.env)).out).toBe('');
  });

  it('config set, get and list', async () => {
    const h = newHome();
    expect(await run(tty, ['config', 'set', 'connectionInfo.period', '30'], h.env)).toEqual({ code: 0, out: '', err: 'connectionInfo.period=30\n' });
    expect(await run(tty, ['config', 'get', 'connectionInfo.period'], h.env)).toEqual({ code: 0, out: '30\n', err: '' });
    const list = await run(tty, ['config', 'list'], h.env);
    expect(list.code).toBe(0);
    const rows = [
      ['Key', 'Value', 'Default', 'Source', 'Unit', 'From'],
      ['exception.ignoreDecoder', 'false', 'false', 'default', '', 'guide'],
      ['notification.sendTimeout', '2000', '2000', 'default', 'ms', 'guide'],
      ['notification.scheduledRate', '5', '5', 'default', 's', 'guide'],
      ['keepAlive.scheduledRate', '30', '30', 'default', 's', 'guide'],
      ['keepAlive.maxPongMissAllowed', '10', '10', 'default', '', 'guide'],
      ['connectionInfo.period', '30', '60', 'set', 's', 'guide'],
      ['scheduledExecutor.threadPoolSize', '1', '1', 'default', '', 'guide'],
      ['connect.timeout', '10000', '10000', 'default', 'ms', 'nbwss'],
      ['notification.maxQueued', '100000', '100000', 'default', '', 'nbwss'],
      ['api.baseUrl', 'https://localhost:1556/netbackup', 'https://localhost:1556/netbackup', 'default', '', 'nbwss'],
      ['api.caFile', '(none)', '(none)', 'default', '', 'nbwss'],
      ['api.timeout', '60000', '60000', 'default', 'ms', 'nbwss'],
      ['api.maxBodyBytes', '16777216', '16777216', 'default', 'bytes', 'nbwss'],
      ['log.level', 'info', 'info', 'default', '', 'nbwss'],
      ['log.format', 'auto', 'auto', 'default', '', 'nbwss'],
      ['metrics.listen', '(none)', '(none)', 'default', '', 'nbwss'],
      ['api.maxInFlight', '0', '0', 'default', '', 'nbwss'],
      ['api.maxQueued', '100', '100', 'default', '', 'nbwss'],
      ['api.maxQueuedBytes', '16777216', '16777216', 'default', 'bytes', 'nbwss'],
      ['api.maxSendBuffer', '8388608', '8388608', 'default', 'bytes', 'nbwss'],
      ['api.version', 'auto', 'auto', 'default', '', 'nbwss'],
      ['api.poll.jobs', 'false', 'false', 'default', '', 'nbwss'],
      ['api.poll.images', 'false', 'false', 'default', '', 'nbwss'],
      ['api.poll.imageWindow', '24', '24', 'default', 'h', 'nbwss'],
      ['api.poll.maxJobStates', '100000', '100000', 'default', '', 'nbwss'],
      ['api.poll.maxImages', '20000', '20000', 'default', '', 'nbwss'],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    if (!tty) {
      expect(list.out).toBe(
        `${rows
          .map((r) =>
            r
              .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
              .join('  ')
              .trimEnd(),
          )
          .join('\n')}\n`,
      );
    } else {
      // At a terminal: the same columns, the header upper case (borderless, as kubectl get prints).
      const head = rows[0]!.map((h) => h.toUpperCase());
      expect(list.out).toBe(
        `${[head, ...rows.slice(1)]
          .map((r) =>
            r
              .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
              .join('  ')
              .trimEnd(),
          )
          .join('\n')}\n`,
      );
    }
  });
});

describe('tables at a terminal fit its width', () => {
  it('fitWidths takes from the widest column first, never below 10; terminalTable cuts with …', async () => {
    const { fitWidths, terminalTable } = await import('../../src/cli/output/table.js');
    expect(fitWidths([10, 60, 8], undefined)).toEqual([10, 60, 8]);
    expect(fitWidths([10, 60, 8], 80)).toEqual([10, 58, 8]); // 10 + 60 + 8 and two gaps of 2 = 82
    expect(fitWidths([10, 60, 8], 20)).toEqual([10, 10, 8]); // as narrow as it goes
    expect(terminalTable(['a', 'bbb'], [['xxxxxxxxxxxxxxx', 'y']], false, 14)).toBe('A           BBB\nxxxxxxxxx…  y');
    expect(terminalTable(['a', 'b'], [['1', '2']], true)).toBe('\x1b[1mA  B\x1b[22m\n1  2');
  });
});
