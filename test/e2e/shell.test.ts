import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from '../helpers/certs.js';
import { BIN, details, detailsFile, newHome, runCli, type Home } from '../helpers/cli.js';
import { startTlsServer, type TlsServer } from '../helpers/servers.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let server: TlsServer;
let home: Home;
let binDir: string;

beforeAll(async () => {
  server = await startTlsServer(makeCert());
  home = newHome();
  for (const h of ['alpha.test', 'beta.test', 'bravo.test']) {
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: h, url: server.url() })), '--yes'], home.env)).code).toBe(0);
  }
  // `nbwss` on PATH for the completion script, as after npm link.
  binDir = tempDir('nbwss-bin-');
  writeFileSync(join(binDir, 'nbwss'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(binDir, 'nbwss'), 0o755);
});
afterAll(async () => {
  await server.close();
  cleanupTempDirs();
});

/** What bash completion offers for a command line; the last word is the one being completed. */
function complete(line: string): string[] {
  const script = `
source "${join(ROOT, 'completions/nbwss.bash')}"
COMP_LINE='${line}'
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_nbwss
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { PATH: `${binDir}:${process.env.PATH}`, ...home.env },
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('bash completion (sourced in a real bash)', () => {
  it('offers the commands', () => {
    expect(complete('nbwss de')).toEqual(['deactivate', 'delete']);
    expect(complete('nbwss ')).toEqual(
      expect.arrayContaining(['add', 'list', 'show', 'delete', 'activate', 'deactivate', 'repin', 'check', 'config', 'doctor', 'history', 'completion']),
    );
  });

  it('offers the flags of each command', () => {
    expect(complete('nbwss list --')).toEqual(['--group', '--help', '--home', '--json', '--names', '--secret-store', '--state', '--store']);
    expect(complete('nbwss add --f')).toEqual(['--file', '--fingerprint']);
  });

  it('offers the stored host names after show, delete, activate, deactivate, repin, check, token set', () => {
    for (const c of ['show', 'delete', 'activate', 'deactivate', 'repin', 'check', 'token set']) {
      expect(complete(`nbwss ${c} b`), c).toEqual(['beta.test', 'bravo.test']);
    }
    expect(complete('nbwss show ')).toEqual(['alpha.test', 'beta.test', 'bravo.test']);
  });

  it('matches host names without regard to case, as the CLI does', () => {
    expect(complete('nbwss show B')).toEqual(['beta.test', 'bravo.test']);
    expect(complete('nbwss delete ALP')).toEqual(['alpha.test']);
  });

  it('never expands what nbwss list --names prints (a name is text, not a command)', () => {
    const marker = join(tempDir('nbwss-marker-'), 'ran');
    const fake = tempDir('nbwss-fakebin-');
    writeFileSync(join(fake, 'nbwss'), `#!/bin/sh\nprintf '%s\\n' '$(touch ${marker})' '\`touch ${marker}\`' 'ok.test'\n`);
    chmodSync(join(fake, 'nbwss'), 0o755);
    const script = `source "${join(ROOT, 'completions/nbwss.bash')}"; COMP_WORDS=(nbwss show ""); COMP_CWORD=2; _nbwss; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { PATH: `${fake}:${process.env.PATH}` } });
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([`$(touch ${marker})`, `\`touch ${marker}\``, 'ok.test']);
    expect(existsSync(marker)).toBe(false);
  });

  it('offers file paths after --file, and choices after --state and --pin', () => {
    expect(complete('nbwss add --file completions/nbwss.b')).toEqual(['completions/nbwss.bash']);
    expect(complete('nbwss list --state ')).toEqual(['activated', 'deactivated']);
    expect(complete('nbwss add --pin s')).toEqual(['spki']);
  });

  it('offers sub-commands and property keys', () => {
    expect(complete('nbwss config ')).toEqual(['get', 'list', 'set', 'unset']);
    expect(complete('nbwss config set keepAlive.')).toEqual(['keepAlive.maxPongMissAllowed', 'keepAlive.scheduledRate']);
    expect(complete('nbwss token ')).toEqual(['set']);
  });
});

describe('completions/ in the repository', () => {
  it.each([
    ['bash', 'completions/nbwss.bash'],
    ['zsh', 'completions/_nbwss'],
    ['fish', 'completions/nbwss.fish'],
  ])('%s: the file is exactly what nbwss completion prints (run npm run completions after changing a command)', async (shell, file) => {
    const r = await runCli(['completion', shell], {});
    expect(r.code).toBe(0);
    expect(readFileSync(join(ROOT, file), 'utf8')).toBe(r.stdout);
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli(['completion', 'tcsh'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});

describe('list --names', () => {
  it('prints one host per line, nothing else; -q is the same; filters apply', async () => {
    const r = await runCli(['list', '--names'], home.env);
    expect(r.stdout).toBe('alpha.test\nbeta.test\nbravo.test\n');
    expect(r.stderr).toBe('');
    expect((await runCli(['list', '-q'], home.env)).stdout).toBe(r.stdout);
    expect((await runCli(['list', '-q', '--group', 'sg1', '--state', 'activated'], home.env)).stdout).toBe(r.stdout);
    expect((await runCli(['list', '-q', '--group', 'other'], home.env)).stdout).toBe('');
    expect((await runCli(['list', '-q', '--json'], home.env)).code).toBe(2);
  });

  it('creates nothing when there is no store', async () => {
    const h = newHome();
    const r = await runCli(['list', '--names'], h.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(spawnSync('test', ['-e', h.dir]).status).toBe(1);
  });
});

const hasShell = (s: string) => spawnSync('sh', ['-c', `command -v ${s}`]).status === 0;
for (const sh of ['zsh', 'fish']) {
  if (!hasShell(sh)) {
    if (process.env.CI === 'true') throw new Error(`${sh} is not installed (CI=true: apt-get install ${sh})`);
    console.warn(`\n*** ${sh.toUpperCase()} COMPLETION TESTS NOT RUN: ${sh} is not installed ***\n`);
  }
}

describe.skipIf(!hasShell('zsh'))('zsh completion (driven in a real interactive zsh through zpty)', () => {
  /**
   * Types `line` and TAB into an interactive zsh with the completion file on
   * its fpath (compinit), reads the screen until `until` shows (an event, not
   * a sleep; bounded by the spawn timeout) and returns it without escapes.
   */
  const zsh = (line: string, until: string, tabs = 1): string => {
    const script = [
      'zmodload zsh/zpty',
      'zpty z zsh -f -i',
      `zpty -w z "PS1='> '; unset zle_bracketed_paste; fpath=(${join(ROOT, 'completions')} \\$fpath); autoload -U compinit; compinit -u -D; zstyle ':completion:*' menu no; print READY\\$((6*7))"`,
      "zpty -r z ready '*READY42*'",
      `zpty -w -n z $'${line}${'\\t'.repeat(tabs)}'`,
      `zpty -r z out '*${until}*'`,
      'print -r -- "$out"',
      'zpty -d z',
    ].join('\n');
    const r = spawnSync('zsh', ['-f', '-c', script], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: `${binDir}:${process.env.PATH}`, TERM: 'xterm', ...home.env },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  };

  it('parses', () => {
    const r = spawnSync('zsh', ['-n', join(ROOT, 'completions/_nbwss')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('completes a command', () => {
    expect(zsh('nbwss sh', 'nbwss show')).toContain('nbwss show');
  });

  it('offers the stored host names, without regard to case', () => {
    const lower = zsh('nbwss show b', 'bravo.test');
    expect(lower).toMatch(/beta\.test +bravo\.test/);
    expect(lower).not.toContain('alpha.test');
    // The first TAB turns B into b (the only prefix all of them share), the second lists them.
    expect(zsh('nbwss delete B', 'bravo.test', 2)).toMatch(/beta\.test +bravo\.test/);
  });

  it('offers flags and property keys', () => {
    expect(zsh('nbwss list --st', 'state')).toContain('nbwss list --state');
    expect(zsh('nbwss config set keepAlive.', 'scheduledRate')).toMatch(/keepAlive\.maxPongMissAllowed +keepAlive\.scheduledRate/);
  });
});

describe.skipIf(!hasShell('fish'))('fish completion (in a real fish)', () => {
  const fish = (line: string) =>
    spawnSync('fish', ['--no-config', '-c', `source ${join(ROOT, 'completions/nbwss.fish')}; complete -C '${line}'`], {
      encoding: 'utf8',
      env: { PATH: `${binDir}:${process.env.PATH}`, ...home.env },
    })
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0])
      .sort();
  it('offers commands, flags, hosts and keys', () => {
    expect(fish('nbwss de')).toEqual(['deactivate', 'delete']);
    expect(fish('nbwss list --sta')).toEqual(['--state']);
    expect(fish('nbwss show b')).toEqual(['beta.test', 'bravo.test']);
    expect(fish('nbwss config set keep')).toEqual(['keepAlive.maxPongMissAllowed', 'keepAlive.scheduledRate']);
  });
  it('lists the host names of the store named by --home', async () => {
    const other = newHome();
    expect((await runCli(['add', '--file', detailsFile(details({ hostName: 'other.test', url: server.url() })), '--yes'], other.env)).code).toBe(0);
    expect(fish(`nbwss show --home ${other.dir} o`)).toEqual(['other.test']);
  });
});
