// npm run release: the artifacts an administrator installs on a primary with no
// compiler, no network and no Node (issue 22), built from this checkout with no
// network:
//   release/nbwss-<v>-linux-x64.tar.gz  a self-contained directory: the Node
//       runtime this build ran on, the bundle and its code cache, the native
//       addons already built, the man page, completions and contrib files;
//       bin/nbwss runs it from anywhere, also through a symlink on PATH.
//   release/nbwss_<v>_amd64.deb  the same program under /usr/lib/nbwss, built
//       with dpkg-deb: /usr/bin/nbwss, the systemd unit, a nbwss system user and
//       /var/lib/nbwss made by the maintainer scripts, logrotate, completions
//       and the man page where bash, zsh, fish and man look by default.
//   release/nbwss-<v>-1.x86_64.rpm  the same, with rpmbuild, if it is installed.
//   release/SHA256SUMS
// Reproducible: files sorted, owned by root, dated by SOURCE_DATE_EPOCH (the
// last commit's time by default).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VERSION = pkg.version;
const OUT = process.env.NBWSS_RELEASE_DIR ?? join(ROOT, 'release');
const NAME = `nbwss-${VERSION}-linux-x64`;
const epoch = Number(
  process.env.SOURCE_DATE_EPOCH ??
    (spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || Math.floor(Date.now() / 1000)),
);
const say = (s) => process.stdout.write(`${s}\n`);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`npm run release builds the linux-x64 artifacts: this is ${process.platform}-${process.arch}`);
  process.exit(1);
}
if (!existsSync(join(ROOT, 'dist', 'cli.cjs.cache'))) {
  console.error('npm run release needs the build (npm run build) first');
  process.exit(1);
}

rmSync(OUT, { recursive: true, force: true });
const stage = join(OUT, 'stage');
const top = join(stage, NAME);
mkdirSync(top, { recursive: true });

// --- the program (app/): the npm package's own files and its production dependencies
const app = join(top, 'app');
for (const f of ['bin/nbwss.cjs', 'dist/cli.cjs', 'dist/cli.cjs.cache', 'dist/version.cjs', 'dist/nbwss.1', 'LICENSE']) cpSync(join(ROOT, f), join(app, f));
// nbwss lab's stand-ins (the npm package ships them too).
cpSync(join(ROOT, 'dist', 'lab'), join(app, 'dist', 'lab'), { recursive: true });
writeFileSync(
  join(app, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: VERSION, description: pkg.description, license: pkg.license, type: 'module', private: true }, null, 2)}\n`,
);
/** Types and the install-time helper of better-sqlite3 are not run: left out. */
const NOT_RUN = new Set(['@types/node', 'undici-types']);
const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((p) => p.startsWith(join(ROOT, 'node_modules')))
  .map((p) => relative(ROOT, p));
for (const dir of prod) {
  const name = dir.split('node_modules/').at(-1);
  if (NOT_RUN.has(name)) continue;
  cpSync(join(ROOT, dir), join(app, dir), {
    recursive: true,
    // Each package is copied by its own entry; better-sqlite3 keeps its JavaScript and the built addon, not its C sources.
    filter: (src) => {
      const r = relative(join(ROOT, dir), src);
      if (r.startsWith('node_modules')) return false;
      // What a package carries for its developers is not run: dotfiles, tests, HTML docs.
      if (
        /(^|\/)\./.test(r) ||
        /^(test|tests|__tests__|docs?|examples?|benchmarks?)(\/|$)/.test(r) ||
        (/\.(html|md|markdown)$/.test(r) && !/^(readme|license)/i.test(r))
      )
        return false;
      if (name === 'better-sqlite3') return !/^(deps|src)(\/|$)/.test(r) && !(/^build\//.test(r) && !/^build\/Release(\/better_sqlite3\.node)?$/.test(r));
      return true;
    },
  });
}

// --- the runtime: the Node this build runs on (the code cache is made by it), and its licence
const runtime = join(top, 'runtime');
mkdirSync(runtime, { recursive: true });
cpSync(process.execPath, join(runtime, 'node'));
chmodSync(join(runtime, 'node'), 0o755);
// Symbols are not needed to run (Debian's own node is stripped): the runtime and the addons lose them.
const addons = [];
walk(app, (p) => p.endsWith('.node') && addons.push(p));
execFileSync('strip', ['--strip-unneeded', join(runtime, 'node'), ...addons]);
const nodeLicence = [join(dirname(process.execPath), '..', 'share', 'doc', 'node', 'LICENSE'), '/usr/share/doc/nodejs/LICENSE'].find((p) => existsSync(p));
if (!nodeLicence) {
  console.error(`npm run release: cannot find the licence of the Node runtime ${process.execPath}`);
  process.exit(1);
}
cpSync(nodeLicence, join(runtime, 'LICENSE'));

// --- the launcher: its own runtime, wherever the directory is and however it is reached
mkdirSync(join(top, 'bin'));
writeFileSync(
  join(top, 'bin', 'nbwss'),
  `#!/bin/sh
# nbwss ${VERSION}, self-contained: runs on the Node runtime in this directory,
# from wherever the directory is, also through a symlink on PATH.
self=$(readlink -f -- "$0") || exit 1
root=\${self%/bin/*}
exec "$root/runtime/node" "$root/app/bin/nbwss.cjs" "$@"
`,
);
chmodSync(join(top, 'bin', 'nbwss'), 0o755);

// --- documentation, completions, contrib
const share = (from, to) => cpSync(join(ROOT, from), join(top, to), { recursive: true });
share('dist/nbwss.1', 'share/man/man1/nbwss.1');
share('completions/nbwss.bash', 'share/bash-completion/completions/nbwss');
share('completions/_nbwss', 'share/zsh/site-functions/_nbwss');
share('completions/nbwss.fish', 'share/fish/vendor_completions.d/nbwss.fish');
share('contrib', 'contrib');
share('README.md', 'README.md');
share('LICENSE', 'LICENSE');

// --- the tarball
normaliseModes(top);
mkdirSync(OUT, { recursive: true });
const TARBALL = `${NAME}.tar.gz`;
tar(stage, NAME, join(OUT, TARBALL));
say(`${TARBALL}: ${size(join(OUT, TARBALL))}`);

// --- the Debian package
const DEB = `nbwss_${VERSION}_amd64.deb`;
{
  const d = join(OUT, 'deb');
  const lib = join(d, 'usr/lib/nbwss');
  mkdirSync(lib, { recursive: true });
  for (const part of ['bin', 'runtime', 'app']) cpSync(join(top, part), join(lib, part), { recursive: true });
  mkdirSync(join(d, 'usr/bin'), { recursive: true });
  symlinkSync('../lib/nbwss/bin/nbwss', join(d, 'usr/bin/nbwss'));
  const man = join(d, 'usr/share/man/man1');
  mkdirSync(man, { recursive: true });
  writeFileSync(join(man, 'nbwss.1.gz'), gzipSync(readFileSync(join(ROOT, 'dist/nbwss.1')), { level: 9 }));
  cpSync(join(ROOT, 'completions/nbwss.bash'), join(d, 'usr/share/bash-completion/completions/nbwss'));
  cpSync(join(ROOT, 'completions/_nbwss'), join(d, 'usr/share/zsh/vendor-completions/_nbwss'));
  cpSync(join(ROOT, 'completions/nbwss.fish'), join(d, 'usr/share/fish/vendor_completions.d/nbwss.fish'));
  cpSync(join(ROOT, 'packaging/nbwss.service'), join(d, 'lib/systemd/system/nbwss.service'));
  cpSync(join(ROOT, 'packaging/logrotate'), join(d, 'etc/logrotate.d/nbwss'));
  const doc = join(d, 'usr/share/doc/nbwss');
  mkdirSync(doc, { recursive: true });
  writeFileSync(join(doc, 'copyright'), copyright());
  writeFileSync(
    join(doc, 'changelog.gz'),
    gzipSync(
      `nbwss (${VERSION}) unstable; urgency=medium\n\n  * Release ${VERSION}: see /usr/share/doc/nbwss/README.md.\n\n -- nbwss developers <nbwss@users.noreply.github.com>  ${new Date(epoch * 1000).toUTCString().replace(/GMT$/, '+0000')}\n`,
      { level: 9 },
    ),
  );
  cpSync(join(ROOT, 'README.md'), join(doc, 'README.md'));
  mkdirSync(join(d, 'DEBIAN'));
  const installedKiB = Math.ceil(du(d) / 1024);
  writeFileSync(
    join(d, 'DEBIAN/control'),
    `Package: nbwss
Version: ${VERSION}
Architecture: amd64
Maintainer: nbwss developers <nbwss@users.noreply.github.com>
Installed-Size: ${installedKiB}
Depends: libc6 (>= 2.34), libstdc++6 (>= 11), adduser
Recommends: logrotate
Section: admin
Priority: optional
Homepage: https://github.com/nbwss/nbwss
Description: NetBackup WebSocket Service endpoints and daemon
 Manages the WebSocket server endpoints the NetBackup WebSocket Service
 connects to (tokens kept encrypted, certificates pinned) and runs the
 connection side itself: the nbwss daemon, as the nbwss system user.
 Self-contained: it carries its own Node.js runtime.
`,
  );
  for (const s of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(ROOT, 'packaging/debian', s), join(d, 'DEBIAN', s));
    chmodSync(join(d, 'DEBIAN', s), 0o755);
  }
  writeFileSync(join(d, 'DEBIAN/conffiles'), '/etc/logrotate.d/nbwss\n');
  cpSync(join(ROOT, 'packaging/debian/lintian-overrides'), join(d, 'usr/share/lintian/overrides/nbwss'));
  const md5 = [];
  walk(d, (p) => {
    const r = relative(d, p);
    if (!r.startsWith('DEBIAN') && lstatSync(p).isFile()) md5.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${r}`);
  });
  writeFileSync(join(d, 'DEBIAN/md5sums'), `${md5.sort((a, b) => a.slice(34).localeCompare(b.slice(34))).join('\n')}\n`);
  normaliseModes(d);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', d, join(OUT, DEB)], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  say(`${DEB}: ${size(join(OUT, DEB))}`);
}

// --- an RPM, if rpmbuild is here (Debian's rpm package has it)
const artifacts = [TARBALL, DEB];
if (spawnSync('rpmbuild', ['--version']).status === 0) {
  const RPM = `nbwss-${VERSION}-1.x86_64.rpm`;
  const top_ = join(OUT, 'rpm');
  const spec = readFileSync(join(ROOT, 'packaging/nbwss.spec'), 'utf8').replaceAll('@VERSION@', VERSION);
  mkdirSync(join(top_, 'SPECS'), { recursive: true });
  writeFileSync(join(top_, 'SPECS/nbwss.spec'), spec);
  const r = spawnSync(
    'rpmbuild',
    [
      '-bb',
      '--define',
      `_topdir ${top_}`,
      '--define',
      `_sourcedir ${join(OUT, 'deb')}`,
      '--define',
      `nbwss_root ${ROOT}`,
      '--define',
      '_build_id_links none',
      join(top_, 'SPECS/nbwss.spec'),
    ],
    { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } },
  );
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  cpSync(join(top_, 'RPMS/x86_64', RPM), join(OUT, RPM));
  artifacts.push(RPM);
  say(`${RPM}: ${size(join(OUT, RPM))}`);
} else say('no rpmbuild here: no .rpm (apt-get install rpm brings it)');

writeFileSync(
  join(OUT, 'SHA256SUMS'),
  artifacts
    .map(
      (a) =>
        `${createHash('sha256')
          .update(readFileSync(join(OUT, a)))
          .digest('hex')}  ${a}\n`,
    )
    .join(''),
);
for (const tmp of ['stage', 'deb', 'rpm']) rmSync(join(OUT, tmp), { recursive: true, force: true });
say(`SHA256SUMS: ${artifacts.length} artifacts, in ${relative(process.cwd(), OUT) || '.'}`);

function tar(cwd, what, file) {
  execFileSync('tar', ['--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', '-I', 'gzip -n -9', '-cf', file, what], { cwd });
}

function walk(dir, fn) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    fn(p);
    if (e.isDirectory()) walk(p, fn);
  }
}

function du(dir) {
  let n = 0;
  walk(dir, (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isFile()) n += st.size;
  });
  return n;
}

/**
 * 0755 directories and the two programs (the launcher and the runtime), 0644
 * everything else, addons included (as Debian's policy wants; umask and npm's
 * copies vary, and nothing under app/ is run but through the runtime).
 */
function normaliseModes(dir) {
  walk(dir, (p) => {
    const st = lstatSync(p);
    const r = relative(dir, p);
    if (r.startsWith('DEBIAN/') || st.isSymbolicLink()) return;
    if (st.isDirectory()) chmodSync(p, 0o755);
    else chmodSync(p, /(^|\/)(bin\/nbwss|runtime\/node)$/.test(r) ? 0o755 : 0o644);
  });
}

function size(file) {
  return `${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`;
}

function copyright() {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nbwss
Source: https://github.com/nbwss/nbwss

Files: *
Copyright: nbwss developers
License: MIT

Files: usr/lib/nbwss/runtime/*
Copyright: Node.js contributors
License: MIT and others
 See /usr/lib/nbwss/runtime/LICENSE.

Files: usr/lib/nbwss/app/node_modules/*
Copyright: their authors
License: MIT and others
 Each package's licence is in its directory.

License: MIT
${readFileSync(join(ROOT, 'LICENSE'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (l.trim() ? ` ${l}` : ' .'))
  .join('\n')}
`;
}
