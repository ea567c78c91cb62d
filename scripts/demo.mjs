// npm run demo: the whole system on this machine (src/lab/demo.mjs, built into dist/lab/demo.js; also nbwss lab demo).
await import('../dist/lab/demo.js');
