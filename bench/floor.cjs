'use strict';
// The floor under `nbwss list`: the least a Node program does to answer it, with nothing of nbwss loaded: open
// the store with better-sqlite3 (its addon named directly, as nbwss does), read 1,000 entries (the columns `list`
// and `list --json` read, src/core/store/endpoints.ts), print them (a table, or with `json` as JSON).
// bench/startup.mjs times it beside `node -e 0` and `nbwss list`: what nbwss adds is the difference.
const { join } = require('node:path');
const Database = require('better-sqlite3');

const [home, form] = process.argv.slice(2);
const db = new Database(join(home, 'nbwss.db'), { readonly: true, nativeBinding: require.resolve('better-sqlite3/build/Release/better_sqlite3.node') });
const query = (columns) => db.prepare(`SELECT ${columns} FROM endpoints ORDER BY group_id, priority, host_name`).all();
const ROW = 'host_name AS hostName, url, group_id AS groupId, priority, state, connection_state AS connectionState, not_after AS notAfter';
if (form === 'json') {
  const rows = query(`${ROW}, pin_type AS pinType, fingerprint, spki_fingerprint AS spkiFingerprint`);
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const rows = query(ROW).map((r) => [r.hostName, r.url, r.groupId, String(r.priority), r.state, r.connectionState]);
  const all = [['HOST NAME', 'URL', 'GROUP ID', 'PRIORITY', 'STATE', 'CONNECTION STATE'], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  process.stdout.write(
    `${all
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
}
