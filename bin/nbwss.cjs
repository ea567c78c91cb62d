#!/usr/bin/env node
'use strict';
// The nbwss executable: loads the bundled CLI (npm run build makes dist/).
// Start-up matters (scripts loop over nbwss, completion runs it on every
// TAB), so: CommonJS, which Node 20 starts faster than an ESM graph;
// `--version` answered without loading the CLI; and the bundle compiled with
// V8's code cache made by the build (dist/cli.cjs.cache).
//
// The cache is valid by content, never by mtime (npm does not keep a
// tarball's mtimes): the bundle ends with a line naming the hash of its
// contents, and the cache starts with the same line. A cache for another
// bundle is not used; one for another Node, V8 rejects by itself.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../dist/version.cjs')}\n`);
} else {
  const { readFileSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const Module = require('node:module');
  const { Script } = require('node:vm');
  const file = join(__dirname, '..', 'dist', 'cli.cjs');
  const cacheFile = `${file}.cache`;
  const source = readFileSync(file, 'utf8');
  // The build id: the last line of the bundle, `//# nbwss-build=<hash>`.
  const idAt = source.lastIndexOf('\n//# nbwss-build=');
  const id = idAt === -1 ? undefined : Buffer.from(`${source.slice(idAt + 1).trimEnd()}\n`, 'latin1');
  let cachedData;
  try {
    const cache = id && readFileSync(cacheFile);
    if (cache && cache.length > id.length && cache.subarray(0, id.length).equals(id)) cachedData = cache.subarray(id.length);
  } catch {
    // no cache: compile as usual
  }
  // The bundle has no import() of its own (a test checks): packages it loads on demand are require()d.
  // The script's name is the same wherever nbwss is installed: V8 keeps the name the code cache was made under (the
  // build machine's path), so stack traces would name a directory that is not this one. Files still load by path.
  const script = new Script(Module.wrap(source), { filename: 'nbwss/dist/cli.cjs', cachedData });
  if (process.env.NBWSS_DEBUG_CODE_CACHE === '1') {
    process.stderr.write(`nbwss: code cache ${cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted'}\n`);
  }
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, join(__dirname, '..', 'dist'));
  const done = mod.exports.run();
  if (process.env.NBWSS_WRITE_CODE_CACHE === '1' && id) {
    // The build runs one command with this set: the cache then holds what start-up compiles.
    done.then(() => writeFileSync(cacheFile, Buffer.concat([id, script.createCachedData()])));
  }
}
