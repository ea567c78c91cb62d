import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { details, detailsFile, newHome } from '../helpers/cli.js';
import { useTlsEndpoint } from '../helpers/fixtures.js';
import { injectedIO as io } from '../helpers/io.js';

// The CLI in-process with injected IO: the same command in terminal and
// non-terminal mode, and the one exit boundary.
const ep = useTlsEndpoint();

describe('main() with injected IO', () => {
  it('list: plain columns when piped, kubectl-style columns on a terminal; the same data', async () => {
    const h = newHome();
    const add = io(false);
    expect(await main(['add', '--file', detailsFile(details({ url: ep.server.url(), hostName: 'in-process.test' })), '--yes'], add.streams, h.env)).toBe(0);
    const piped = io(false);
    expect(await main(['list'], piped.streams, h.env)).toBe(0);
    const url = ep.server.url();
    expect(piped.out()).toBe(
      [
        `Host Name        ${'URL'.padEnd(url.length)}  Group ID  Priority  State      Connection State`,
        `in-process.test  ${url}  sg1       1         ACTIVATED  DISCONNECTED`,
        '',
      ].join('\n'),
    );
    const term = io(true);
    expect(await main(['list'], term.streams, h.env)).toBe(0);
    // At a terminal: kubectl-style, no borders, an upper-case header, one line per entry.
    expect(term.out()).toBe(
      [
        `HOST NAME        ${'URL'.padEnd(url.length)}  GROUP ID  PRIORITY  STATE      CONNECTION STATE`,
        `in-process.test  ${url}  sg1       1         ACTIVATED  DISCONNECTED`,
        '',
      ].join('\n'),
    );
    expect(term.out()).not.toContain('\u001b['); // no colour unless asked
  });

  it('errors: red on a colour terminal, plain otherwise, with the exit code of their kind', async () => {
    const h = newHome();
    const red = io(true, true);
    expect(await main(['show', 'nope.test'], red.streams, h.env)).toBe(7);
    expect(red.err()).toContain('\u001b[31mError: no entity was found\u001b[39m');
    const plain = io(false);
    expect(await main(['show', 'nope.test'], plain.streams, h.env)).toBe(7);
    expect(plain.err()).toBe('Error: no entity was found\nNo endpoint with the host name nope.test is saved. See the saved ones with: nbwss list\n');
  });

  it('an error that is no NbwssError is exit 1: "Unexpected error", no stack trace unless NBWSS_DEBUG', async () => {
    const h = newHome();
    const broken = io(false, false, () => {
      throw new Error('EIO: the output device failed');
    });
    expect(await main(['list', '--json'], broken.streams, h.env)).toBe(1);
    expect(broken.err()).toBe(
      'Unexpected error: EIO: the output device failed\nThis is a bug in nbwss; run again with NBWSS_DEBUG=1 for details and report it.\n',
    );
    const debug = io(false, false, () => {
      throw new Error('EIO: the output device failed');
    });
    expect(await main(['list', '--json'], debug.streams, { ...h.env, NBWSS_DEBUG: '1' })).toBe(1);
    expect(debug.err()).toMatch(/\n {4}at /);
  });

  it('usage errors are exit 2 and help is exit 0, through the same boundary', async () => {
    const u = io(false);
    expect(await main(['list', '--nope'], u.streams, {})).toBe(2);
    expect(u.err()).toMatch(/^Error: unknown option '--nope'\n(\(Did you mean .*\)\n)?Run nbwss list --help for usage\.\n$/);
    const help = io(false);
    expect(await main(['--help'], help.streams, {})).toBe(0);
    expect(help.out()).toContain('Exit codes:');
  });
});

describe('help', () => {
  it('lists the commands by task, in one voice (commander’s own texts included); examples print as written', async () => {
    const h = newHome();
    const top = io(false);
    expect(await main(['--help'], top.streams, h.env)).toBe(0);
    const headings = [...top.out().matchAll(/^([A-Z][A-Za-z ]+):$/gm)].map((m) => m[1]);
    expect(headings).toEqual(
      ['Usage', 'Options', 'Endpoints', 'Certificates', 'Daemon and delivery', 'REST API', 'Trying it', 'Maintenance', 'Exit codes'].filter(
        (x) => x !== 'Usage',
      ),
    );
    expect(top.out()).not.toMatch(/output the version number|display help for command/);
    expect(top.out()).toMatch(/^ {2}help \[command\] +Show the help of a command$/m);
    expect(top.out()).toMatch(/^ {2}api +NetBackup's REST API: where COMMAND REQUESTs go/m);
    const add = io(false);
    expect(await main(['add', '--help'], add.streams, h.env)).toBe(0);
    expect(add.out()).toContain(`printf '%s\\n' "$DETAILS_URL" | nbwss add --url -`);
    expect(add.out()).toMatch(/^ {2}-h, --help +show this help$/m);
  });
});

describe('--help of every command, in-process and piped', () => {
  it('each says its usage under its full name, in one voice, and exits 0 (the lab stand-ins keep their own help)', async () => {
    const { buildProgram } = await import('../../src/cli/main.js');
    const { makeContext } = await import('../../src/cli/default-context.js');
    const { makeStyle } = await import('../../src/cli/output/style.js');
    const program = buildProgram(makeContext(io(false).streams, {}, makeStyle(false)));
    const paths: string[][] = [];
    const walk = (c: import('commander').Command, at: string[]) => {
      for (const sub of c.commands) {
        if (sub.name() === 'help' || at[0] === 'lab') continue;
        paths.push([...at, sub.name()]);
        walk(sub, [...at, sub.name()]);
      }
    };
    walk(program, []);
    expect(paths.length).toBeGreaterThan(30);
    const h = newHome();
    for (const p of paths) {
      const out = io(false);
      expect(await main([...p, '--help'], out.streams, h.env), p.join(' ')).toBe(0);
      expect(out.out(), p.join(' ')).toMatch(new RegExp(`^Usage: nbwss ${p.join(' ')}\\b`));
      expect(out.out(), p.join(' ')).toMatch(/^ {2}-h, --help +show this help$/m);
      expect(out.out(), p.join(' ')).not.toMatch(/display help for command|output the version number/);
      expect(out.err(), p.join(' ')).toBe('');
    }
  });
});

describe('only the command a command line runs is built (start-up)', () => {
  it('names the command after the global options; anything else (help, a typo, completion) builds them all', async () => {
    const { invokedCommand } = await import('../../src/cli/main.js');
    expect(invokedCommand(['list', '--json'])).toBe('list');
    expect(invokedCommand(['ls'])).toBe('ls');
    expect(invokedCommand(['--home', '/tmp/x', '--store', 'postgres://h/db', 'status'])).toBe('status');
    expect(invokedCommand(['--home=/tmp/x', '--secret-store', 'file', 'add'])).toBe('add');
    expect(invokedCommand(['--home', 'list'])).toBeUndefined(); // `list` is --home's value
    for (const argv of [[], ['help', 'list'], ['--help'], ['-V'], ['lst'], ['completion', 'bash'], ['--json', 'list']])
      expect(invokedCommand(argv), argv.join(' ')).toBeUndefined();
  });

  it("the global options invokedCommand skips with their value are the program's own", async () => {
    const { buildProgram, GLOBAL_VALUE_OPTIONS } = await import('../../src/cli/main.js');
    const { makeContext } = await import('../../src/cli/default-context.js');
    const { makeStyle } = await import('../../src/cli/output/style.js');
    const program = buildProgram(makeContext(io(false).streams, {}, makeStyle(false)));
    expect(program.options.filter((o) => o.required || o.optional).map((o) => o.long)).toEqual(GLOBAL_VALUE_OPTIONS);
  });

  it("each entry's names are its definition's name and aliases", async () => {
    const { buildProgram } = await import('../../src/cli/main.js');
    const { COMMANDS } = await import('../../src/cli/commands/index.js');
    const { makeContext } = await import('../../src/cli/default-context.js');
    const { makeStyle } = await import('../../src/cli/output/style.js');
    const built = buildProgram(makeContext(io(false).streams, {}, makeStyle(false))).commands.filter((c) => c.name() !== 'help');
    expect(built.map((c) => [c.name(), ...c.aliases()])).toEqual(COMMANDS.map((c) => [...c.names]));
  });

  it('a command built alone helps, parses and fails as when built with all; a typo still gets a suggestion', async () => {
    const h = newHome();
    for (const name of ['list', 'status', 'api', 'config']) {
      const alone = io(false);
      const withAll = io(false);
      expect(await main([name, '--help'], alone.streams, h.env)).toBe(0);
      expect(await main(['help', name], withAll.streams, h.env)).toBe(0);
      expect(alone.out(), name).toBe(withAll.out());
    }
    const list = io(false);
    expect(await main(['--home', h.dir, 'list', '--names'], list.streams, { ...h.env, NBWSS_HOME: undefined })).toBe(0);
    const typo = io(false);
    expect(await main(['lst'], typo.streams, h.env)).toBe(2);
    expect(typo.err()).toContain('(Did you mean one of list, ls?)');
    const bash = io(false);
    expect(await main(['completion', 'bash'], bash.streams, h.env)).toBe(0);
    expect(bash.out()).toContain('deactivate');
  });
});
