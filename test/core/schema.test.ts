import { describe, expect, it } from 'vitest';
import {
  ENTRIES,
  OUTBOX,
  PG_BASE,
  PG_SCHEMA_VERSION,
  POLL_STATE,
  render,
  SHARED_ONLY,
  SHARED_STEPS,
  SQLITE_BASE,
  SQLITE_SCHEMA_VERSION,
} from '../../src/core/store/schema.js';
import { PG_MIGRATIONS } from '../../src/core/store/pg/schema.js';
import { SCHEMA_VERSION } from '../../src/core/store/db.js';

// The one schema definition rendered in each backend's words (the tables themselves are compared on real
// SQLite and PostgreSQL stores in test/e2e/postgres.test.ts).
describe('render', () => {
  it('SQLite: host names NOCASE, grouped text binary, STRICT tables, the outbox WITHOUT ROWID; types as written', () => {
    expect(render('CREATE TABLE t (\n  h TEXT {host} NOT NULL PRIMARY KEY,\n  g TEXT {key} NOT NULL,\n  n INTEGER\n) {strict};', 'sqlite')).toBe(
      'CREATE TABLE t (\n  h TEXT COLLATE NOCASE NOT NULL PRIMARY KEY,\n  g TEXT NOT NULL,\n  n INTEGER\n) STRICT;',
    );
    expect(render(') {strict_without_rowid};', 'sqlite')).toBe(') STRICT, WITHOUT ROWID;');
  });

  it('PostgreSQL: the "C" collation for host names and grouped text, 64-bit integers, no SQLite table options', () => {
    expect(
      render('CREATE TABLE t (\n  h TEXT {host} NOT NULL PRIMARY KEY,\n  g TEXT {key} NOT NULL,\n  n INTEGER,\n  b BOOLEAN\n) {strict};', 'postgres'),
    ).toBe('CREATE TABLE t (\n  h text COLLATE "C" NOT NULL PRIMARY KEY,\n  g text COLLATE "C" NOT NULL,\n  n bigint,\n  b boolean\n);');
    expect(render(') {strict_without_rowid};', 'postgres')).toBe(');');
  });

  it('every table of the definition renders with no placeholder left, in both dialects', () => {
    for (const d of ['sqlite', 'postgres'] as const)
      for (const sql of [ENTRIES, OUTBOX, POLL_STATE, SHARED_ONLY, ...SHARED_STEPS]) expect(render(sql, d)).not.toMatch(/[{}]/);
  });
});

describe('versions', () => {
  it('each backend’s version is its base plus the shared steps; PostgreSQL’s steps are its first plus the shared ones', () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(SQLITE_BASE + SHARED_STEPS.length);
    expect(SCHEMA_VERSION).toBe(SQLITE_SCHEMA_VERSION);
    expect(PG_SCHEMA_VERSION).toBe(PG_BASE + SHARED_STEPS.length);
    expect(PG_MIGRATIONS).toHaveLength(PG_SCHEMA_VERSION);
    expect(PG_MIGRATIONS.at(-1)).toBe(render(SHARED_STEPS.at(-1)!, 'postgres'));
    expect(PG_MIGRATIONS[0]).toContain('CREATE TABLE daemons');
    // A pid read by node-postgres as a number, not a bigint's string (the shared-store view compares pids).
    expect(PG_MIGRATIONS[0]).toMatch(/pid +integer NOT NULL/);
  });
});
