import { randomBytes } from 'node:crypto';
import { NbwssError } from '../../errors.js';
import { POLL_JOBS_BY_SEEN } from '../poll.js';
import type { PgDatabase } from './database.js';

/**
 * The PostgreSQL store's schema: the SQLite store's tables (db.ts, outbox.ts,
 * poll.ts) in PostgreSQL's words, plus `secrets` (tokens and API credentials,
 * encrypted with the key file: a per-machine keychain cannot serve several
 * hosts). Text that is sorted or grouped uses the "C" collation, as SQLite
 * compares. Its versions are its own, applied in order under a lock like the
 * SQLite store's (1: everything the SQLite store's version 4 holds, and
 * `secrets`; 2: = SQLite's 5).
 */
/** pg_advisory_xact_lock key of migrations ('nbwssMIG'): several processes starting at once migrate one after another. */
const MIGRATION_LOCK_KEY = 0x6e627773_4d4947n.toString();

const V1 = `
CREATE TABLE meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE endpoints (
  host_name        text COLLATE "C" PRIMARY KEY,
  url              text NOT NULL,
  group_id         text COLLATE "C" NOT NULL,
  priority         bigint NOT NULL CHECK (priority >= 0),
  state            text NOT NULL CHECK (state IN ('ACTIVATED', 'DEACTIVATED')),
  pin_type         text NOT NULL DEFAULT 'cert' CHECK (pin_type IN ('cert', 'spki')),
  fingerprint      text NOT NULL,
  spki_fingerprint text NOT NULL,
  not_after        text NOT NULL,
  created_at       text NOT NULL,
  updated_at       text NOT NULL,
  connection_state text NOT NULL DEFAULT 'DISCONNECTED' CHECK (connection_state IN ('CONNECTED', 'DISCONNECTED')),
  connection_since text,
  last_error       text
);
CREATE INDEX endpoints_by_group ON endpoints (group_id, priority, host_name);
CREATE TABLE pinned_certificates (
  host_name text COLLATE "C" PRIMARY KEY REFERENCES endpoints (host_name) ON DELETE CASCADE ON UPDATE CASCADE,
  cert_pem  text NOT NULL
);
CREATE TABLE outbox (
  group_id    text COLLATE "C" NOT NULL,
  seq         bigint NOT NULL,
  object      text NOT NULL CHECK (object IN ('JOB', 'IMAGE')),
  data        text NOT NULL,
  accepted_at text NOT NULL,
  PRIMARY KEY (group_id, seq)
);
CREATE TABLE deliveries (
  group_id      text COLLATE "C" PRIMARY KEY,
  message_id    text NOT NULL,
  up_to_seq     bigint NOT NULL,
  count         bigint NOT NULL,
  message       text NOT NULL,
  attempts      bigint NOT NULL,
  first_sent_at text NOT NULL
);
CREATE TABLE group_stats (
  group_id             text COLLATE "C" PRIMARY KEY,
  acknowledged         bigint NOT NULL DEFAULT 0,
  last_acknowledged_at text,
  refused              bigint NOT NULL DEFAULT 0,
  last_refused_at      text,
  dropped              bigint NOT NULL DEFAULT 0
);
CREATE TABLE poll_sources (
  source       text PRIMARY KEY CHECK (source IN ('jobs', 'images')),
  cursor       text,
  last_poll_at text,
  last_ok_at   text,
  last_error   text,
  events       bigint NOT NULL DEFAULT 0
);
CREATE TABLE poll_jobs (
  job_id  bigint PRIMARY KEY,
  state   text NOT NULL,
  seen_at bigint NOT NULL
);
CREATE TABLE poll_images (
  backup_id   text COLLATE "C" PRIMARY KEY,
  backup_time bigint NOT NULL,
  client_name text NOT NULL,
  client_type text NOT NULL,
  digest      text NOT NULL
);
CREATE INDEX poll_images_by_time ON poll_images (backup_time);
CREATE TABLE secrets (
  account text COLLATE "C" PRIMARY KEY,
  sealed  text NOT NULL
);
-- The daemons sharing the store: each one's heartbeat and the groups it serves (for status).
CREATE TABLE daemons (
  id           text PRIMARY KEY,
  host         text NOT NULL,
  pid          integer NOT NULL,
  started_at   text NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  groups       text NOT NULL DEFAULT '[]',
  poller       boolean NOT NULL DEFAULT false,
  key_ok       boolean
);
`;

/** Each entry is one schema step; the index + 1 is the version it leads to. */
const PG_MIGRATIONS: string[] = [V1, POLL_JOBS_BY_SEEN];
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Create the schema, or bring an older one up to date; safe when several processes start at once. */
export function pgMigrate(db: PgDatabase, where: string): void {
  const q = (sql: string, p?: unknown[]) => db.pg.query(sql, p);
  q('BEGIN');
  try {
    q('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    q('CREATE TABLE IF NOT EXISTS nbwss_schema (version integer NOT NULL)');
    const v = (q('SELECT version FROM nbwss_schema').rows[0]?.version as number | undefined) ?? 0;
    if (v > PG_SCHEMA_VERSION)
      throw new NbwssError('STORE', `The store ${where} has schema version ${v}, newer than this nbwss understands (${PG_SCHEMA_VERSION})`, {
        hint: 'Upgrade nbwss on this host: every host of a shared store runs the same version.',
      });
    for (let step = v; step < PG_SCHEMA_VERSION; step++) q(PG_MIGRATIONS[step]!);
    if (v === 0) {
      q('INSERT INTO meta (key, value) VALUES ($1, $2)', ['store_id', randomBytes(12).toString('hex')]);
      q('INSERT INTO nbwss_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    } else if (v < PG_SCHEMA_VERSION) q('UPDATE nbwss_schema SET version = $1', [PG_SCHEMA_VERSION]);
    q('COMMIT');
  } catch (e) {
    try {
      q('ROLLBACK');
    } catch {
      // gone
    }
    throw e;
  }
}
