import { describe, expect, it } from 'vitest';
import { translate } from '../../src/core/store/pg/database.js';

// The store's SQL is written once (SQLite's dialect); on PostgreSQL each statement is adapted by translate().
describe('translate: the store’s SQL in PostgreSQL’s words', () => {
  it('positional ? parameters become $1, $2 … in order', () => {
    expect(translate('SELECT state FROM poll_jobs WHERE job_id = ? AND seen_at < ?')).toEqual({
      text: 'SELECT state FROM poll_jobs WHERE job_id = $1 AND seen_at < $2',
      names: undefined,
    });
  });

  it('a many-row INSERT: 500 rows of 5 parameters are $1 … $2500', () => {
    const sql = `INSERT INTO outbox (group_id, seq, object, data, accepted_at) VALUES ${Array(500).fill('(?, ?, ?, ?, ?)').join(', ')}`;
    const t = translate(sql);
    expect(t.text.startsWith('INSERT INTO outbox (group_id, seq, object, data, accepted_at) VALUES ($1, $2, $3, $4, $5), ($6,')).toBe(true);
    expect(t.text.endsWith('($2496, $2497, $2498, $2499, $2500)')).toBe(true);
  });

  it('@name parameters become $n by first appearance, a repeated name keeps its number; the names come back in order', () => {
    expect(translate('INSERT INTO x (a, b, c) VALUES (@backupId, @backupTime, @backupId)')).toEqual({
      text: 'INSERT INTO x (a, b, c) VALUES ($1, $2, $1)',
      names: ['backupId', 'backupTime'],
    });
  });

  it('camelCase aliases are quoted (rows keep their keys); lower-case ones are left alone', () => {
    expect(translate('SELECT host_name AS hostName, state AS state, last_ok_at AS lastOkAt FROM t').text).toBe(
      'SELECT host_name AS "hostName", state AS state, last_ok_at AS "lastOkAt" FROM t',
    );
  });

  it('INSERT OR IGNORE becomes INSERT … ON CONFLICT DO NOTHING', () => {
    expect(translate('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)  ').text).toBe(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    );
  });

  it('the same text is translated once (cached), and stays right after many others', () => {
    const a = translate('SELECT 1 WHERE ? = ?');
    for (let i = 0; i < 1500; i++) translate(`SELECT ${i} WHERE x = ?`);
    expect(translate('SELECT 1 WHERE ? = ?')).toEqual(a);
  });
});
