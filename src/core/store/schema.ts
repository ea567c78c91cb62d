/**
 * The store's schema, written once for both backends in a neutral SQL that
 * render() puts in each one's words:
 *
 * - `TEXT`, `INTEGER` (64-bit: PostgreSQL's bigint), `BOOLEAN`;
 * - `{host}` right after a host name's type: SQLite's `COLLATE NOCASE`,
 *   PostgreSQL's `COLLATE "C"` — host names are kept in their canonical,
 *   lower-case form (endpoint/host.ts), so both compare them alike;
 * - `{key}` right after the type of text that is grouped or sorted (group
 *   ids, accounts): binary on SQLite, `COLLATE "C"` on PostgreSQL (whose
 *   default collation would sort by the server's locale);
 * - `{strict}` after a table: SQLite's STRICT typing (PostgreSQL is strict);
 *   `{strict_without_rowid}`: STRICT, WITHOUT ROWID.
 *
 * History: the SQLite store came first (steps 1–4, one per feature); the
 * PostgreSQL store's first step holds all of them, and the tables only a
 * shared store has (`secrets`, `daemons`). Every step after that is in
 * SHARED_STEPS and applied by both, so a change is written once: the SQLite
 * version is SQLITE_BASE + n, the PostgreSQL version PG_BASE + n.
 */
export type Dialect = 'sqlite' | 'postgres';

export function render(sql: string, dialect: Dialect): string {
  if (dialect === 'sqlite')
    return sql
      .replace(/ \{host\}/g, ' COLLATE NOCASE')
      .replace(/ \{key\}/g, '')
      .replace(/ \{strict\}/g, ' STRICT')
      .replace(/ \{strict_without_rowid\}/g, ' STRICT, WITHOUT ROWID');
  return sql
    .replace(/ \{host\}| \{key\}/g, ' COLLATE "C"')
    .replace(/ \{strict(_without_rowid)?\}/g, '')
    .replace(/\bINTEGER\b/g, 'bigint')
    .replace(/\bTEXT\b/g, 'text')
    .replace(/\bBOOLEAN\b/g, 'boolean');
}

/** SQLite step 1: the entries and their pins. */
export const ENTRIES = `
CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) {strict};
CREATE TABLE endpoints (
  host_name        TEXT {host} NOT NULL PRIMARY KEY,
  url              TEXT NOT NULL,
  group_id         TEXT {key} NOT NULL,
  priority         INTEGER NOT NULL CHECK (priority >= 0),
  state            TEXT NOT NULL CHECK (state IN ('ACTIVATED', 'DEACTIVATED')),
  pin_type         TEXT NOT NULL DEFAULT 'cert' CHECK (pin_type IN ('cert', 'spki')),
  fingerprint      TEXT NOT NULL,
  spki_fingerprint TEXT NOT NULL,
  not_after        TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  connection_state TEXT NOT NULL DEFAULT 'DISCONNECTED' CHECK (connection_state IN ('CONNECTED', 'DISCONNECTED')),
  connection_since TEXT,
  last_error       TEXT
) {strict};
CREATE INDEX endpoints_by_group ON endpoints (group_id, priority, host_name);
-- The pinned certificate's PEM is most of an entry's bytes; kept apart so listing reads small rows.
CREATE TABLE pinned_certificates (
  host_name TEXT {host} NOT NULL PRIMARY KEY REFERENCES endpoints (host_name) ON DELETE CASCADE ON UPDATE CASCADE,
  cert_pem  TEXT NOT NULL
) {strict};
`;

/** SQLite step 3: the notification outbox (outbox.ts). */
export const OUTBOX = `
CREATE TABLE outbox (
  group_id    TEXT {key} NOT NULL,
  seq         INTEGER NOT NULL,
  object      TEXT NOT NULL CHECK (object IN ('JOB', 'IMAGE')),
  data        TEXT NOT NULL,
  accepted_at TEXT NOT NULL,
  PRIMARY KEY (group_id, seq)
) {strict_without_rowid};
-- The one NOTIFICATION REQUEST in flight per group (stop-and-wait): kept across restarts so the
-- same message, with the same id, is what is sent again.
CREATE TABLE deliveries (
  group_id      TEXT {key} NOT NULL PRIMARY KEY,
  message_id    TEXT NOT NULL,
  up_to_seq     INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  message       TEXT NOT NULL,
  attempts      INTEGER NOT NULL,
  first_sent_at TEXT NOT NULL
) {strict};
CREATE TABLE group_stats (
  group_id             TEXT {key} NOT NULL PRIMARY KEY,
  acknowledged         INTEGER NOT NULL DEFAULT 0,
  last_acknowledged_at TEXT,
  refused              INTEGER NOT NULL DEFAULT 0,
  last_refused_at      TEXT,
  dropped              INTEGER NOT NULL DEFAULT 0
) {strict};
`;

/** SQLite step 4: what the REST API poller has seen (poll.ts). */
export const POLL_STATE = `
CREATE TABLE poll_sources (
  source       TEXT NOT NULL PRIMARY KEY CHECK (source IN ('jobs', 'images')),
  cursor       TEXT,
  last_poll_at TEXT,
  last_ok_at   TEXT,
  last_error   TEXT,
  events       INTEGER NOT NULL DEFAULT 0
) {strict};
-- The last state notified per job (seen_at: the job's lastUpdateTime, epoch seconds).
CREATE TABLE poll_jobs (
  job_id  INTEGER NOT NULL PRIMARY KEY,
  state   TEXT NOT NULL,
  seen_at INTEGER NOT NULL
) {strict};
-- The images of the watched window, as last seen.
CREATE TABLE poll_images (
  backup_id   TEXT {key} NOT NULL PRIMARY KEY,
  backup_time INTEGER NOT NULL,
  client_name TEXT NOT NULL,
  client_type TEXT NOT NULL,
  digest      TEXT NOT NULL
) {strict};
CREATE INDEX poll_images_by_time ON poll_images (backup_time);
`;

/** Only a shared store (PostgreSQL) has these: sealed tokens, and the daemons sharing it. */
export const SHARED_ONLY = `
CREATE TABLE secrets (
  account TEXT {key} NOT NULL PRIMARY KEY,
  sealed  TEXT NOT NULL
);
-- The daemons sharing the store: each one's heartbeat and the groups it serves (for status).
CREATE TABLE daemons (
  id           TEXT NOT NULL PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          integer NOT NULL, -- 32-bit (lower case: not rendered as bigint): node-postgres reads it as a number
  started_at   TEXT NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  groups       TEXT NOT NULL DEFAULT '[]',
  poller       BOOLEAN NOT NULL DEFAULT false,
  key_ok       BOOLEAN
);
`;

/** The SQLite version that SHARED_STEPS build on (steps 1–4), and the PostgreSQL one (its step 1). */
export const SQLITE_BASE = 4;
export const PG_BASE = 1;

/**
 * The schema's steps since both backends exist, applied by both, in order
 * (one neutral statement list each). The next schema change goes here.
 */
export const SHARED_STEPS: readonly string[] = [
  // SQLite 5, PostgreSQL 2: job states by age, for the cap on them (api.poll.maxJobStates).
  'CREATE INDEX poll_jobs_by_seen ON poll_jobs (seen_at, job_id);',
  // SQLite 6, PostgreSQL 3: each notification stored once, not once per group (outbox.ts): a queue per group over them.
  `CREATE TABLE notifications (
  seq         INTEGER NOT NULL PRIMARY KEY,
  object      TEXT NOT NULL CHECK (object IN ('JOB', 'IMAGE')),
  data        TEXT NOT NULL,
  accepted_at TEXT NOT NULL
) {strict};
-- A group's pending notifications: every one after acked_seq, except its gaps (a row only while some are pending).
CREATE TABLE group_queues (
  group_id  TEXT {key} NOT NULL PRIMARY KEY,
  acked_seq INTEGER NOT NULL,
  pending   INTEGER NOT NULL CHECK (pending > 0)
) {strict};
CREATE INDEX group_queues_by_acked ON group_queues (acked_seq);
-- Notifications after a group's acked_seq that are not its: batches it refused (full) or missed (not collecting).
CREATE TABLE group_gaps (
  group_id TEXT {key} NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq   INTEGER NOT NULL,
  PRIMARY KEY (group_id, from_seq)
) {strict_without_rowid};
INSERT INTO notifications (seq, object, data, accepted_at) SELECT seq, MIN(object), MIN(data), MIN(accepted_at) FROM outbox GROUP BY seq;
INSERT INTO group_queues (group_id, acked_seq, pending) SELECT group_id, MIN(seq) - 1, COUNT(*) FROM outbox GROUP BY group_id;
INSERT INTO group_gaps (group_id, from_seq, to_seq)
  SELECT q.group_id, n.seq, n.seq FROM group_queues q JOIN notifications n ON n.seq > q.acked_seq
  WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.group_id = q.group_id AND o.seq = n.seq);
DROP TABLE outbox;`,
];

export const SQLITE_SCHEMA_VERSION = SQLITE_BASE + SHARED_STEPS.length;
export const PG_SCHEMA_VERSION = PG_BASE + SHARED_STEPS.length;
