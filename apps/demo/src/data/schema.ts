import type { SqlClient } from './sql-client';

/**
 * The demo's tables, created when missing, and the seed rows, written when the users table is
 * empty. One transaction under an advisory lock, so that several demo processes starting at once
 * against one server migrate and seed exactly once.
 */
const MIGRATION = `
BEGIN;
SELECT pg_advisory_xact_lock(7302415);
CREATE TABLE IF NOT EXISTS users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  CONSTRAINT users_email_key UNIQUE (email)
);
CREATE TABLE IF NOT EXISTS posts (
  id serial PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS posts_author_id_idx ON posts (author_id);
CREATE TABLE IF NOT EXISTS comments (
  id serial PRIMARY KEY,
  post_id integer NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_post_id_idx ON comments (post_id);
CREATE INDEX IF NOT EXISTS comments_author_id_idx ON comments (author_id);
CREATE TABLE IF NOT EXISTS jobs (
  id serial PRIMARY KEY,
  owner text NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_owner_idx ON jobs (owner);
DO $seed$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users) THEN
    INSERT INTO users (name, email) VALUES
      ('Ada Lovelace', 'ada@example.com'), ('Alan Turing', 'alan@example.com'), ('Grace Hopper', 'grace@example.com');
    INSERT INTO posts (title, body, author_id)
      SELECT 'Post ' || i, 'Body of post ' || i || '.', ((i - 1) % 3) + 1 FROM generate_series(1, 30) AS i;
    -- 20,000 comments, skewed towards low post ids, so that the feed has work to do.
    INSERT INTO comments (post_id, author_id, body, created_at)
      SELECT 1 + floor(30 * power((i * 7919 % 10007) / 10007.0, 2))::int, (i % 3) + 1,
             'Comment ' || i || ' on the demo''s seed data.', timestamptz '2026-01-01' + i * interval '1 minute'
      FROM generate_series(1, 20000) AS i;
    INSERT INTO jobs (owner, name, status, updated_at) VALUES
      ('alice', 'backup', 'queued', timestamptz '1970-01-01'), ('alice', 'report', 'queued', timestamptz '1970-01-01'),
      ('bob', 'import', 'queued', timestamptz '1970-01-01');
  END IF;
END
$seed$;
COMMIT;
`;

/**
 * Creates the tables and the seed rows where missing (safe to run on every start, by every
 * process). On failure the client is closed and the error says which database refused and why.
 */
export async function migrate(sql: SqlClient): Promise<void> {
  try {
    await sql.exec(MIGRATION);
  } catch (error) {
    await sql.close().catch(() => undefined);
    const where = sql.kind === 'pglite' ? 'the embedded PostgreSQL' : 'the PostgreSQL server of DATABASE_URL';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not create the demo's tables in ${where}: ${reason}`, { cause: error });
  }
}
