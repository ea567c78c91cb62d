#!/usr/bin/env node
'use strict';
// The nbwss executable: loads the bundled CLI (npm run build makes dist/).
// Start-up matters (scripts loop over nbwss, completion runs it on every
// TAB), so: CommonJS, which Node 20 starts faster than an ESM graph;
// `--version` answered without loading the CLI; and the bundle compiled with
// V8's code cache made by the build (dist/cli.cjs.cache). A cache that does
// not fit this Node (or is older than the bundle) is simply not used.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../dist/version.cjs')}\n`);
} else {
  const { readFileSync, statSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const Module = require('node:module');
  const { Script } = require('node:vm');
  const file = join(__dirname, '..', 'dist', 'cli.cjs');
  const cacheFile = `${file}.cache`;
  const source = readFileSync(file, 'utf8');
  let cachedData;
  try {
    if (statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs) cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: compile as usual
  }
  // The bundle has no import() of its own (a test checks): packages it loads on demand are require()d.
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, join(__dirname, '..', 'dist'));
  const done = mod.exports.run();
  if (process.env.NBWSS_WRITE_CODE_CACHE === '1') {
    // The build runs one command with this set: the cache then holds what start-up compiles.
    done.then(() => writeFileSync(cacheFile, script.createCachedData()));
  }
}
