#!/usr/bin/env node
// The nbwss executable: loads the bundled CLI (npm run build makes dist/).
// `nbwss --version` is answered without loading the CLI at all: scripts and
// shell completion call nbwss often, and start-up time is what they feel.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { VERSION } = await import('../dist/version.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  const { run } = await import('../dist/cli.js');
  await run();
}
