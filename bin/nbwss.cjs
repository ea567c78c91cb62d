#!/usr/bin/env node
'use strict';
// The nbwss executable: loads the bundled CLI (npm run build makes dist/).
// CommonJS on purpose: it starts faster than an ESM graph on Node 20, and
// `nbwss --version` is answered without loading the CLI at all; scripts and
// shell completion call nbwss often, and start-up time is what they feel.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${require('../dist/version.cjs')}\n`);
} else {
  require('../dist/cli.cjs').run();
}
