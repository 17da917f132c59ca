"""The seed's three tables, valid PostgreSQL, plus what the design needs.

Revision ID: 0001
Revises: (none)

The seed's tables keep their names and every column, so its monitoring queries run
unchanged; its TIMESTAMP columns become TIMESTAMPTZ (the jobs run on servers in other time
zones than the catalogue). The seed declared indexes inside CREATE TABLE, which PostgreSQL
does not accept: they are separate statements here, minus those a UNIQUE already implies.
Every table and column added to the seed's is described in docs/schema.md.
SQL written for PostgreSQL 15 (CI) and later (the embedded server).
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MOVIES = """
CREATE TABLE hotstar_movies (
  id BIGSERIAL PRIMARY KEY,
  hotstar_id BIGINT NOT NULL UNIQUE,
  content_id VARCHAR(50) NOT NULL UNIQUE,

  title VARCHAR(500) NOT NULL,
  description TEXT,
  content_type VARCHAR(50) DEFAULT 'MOVIE',
  year INTEGER,
  duration INTEGER,

  genre JSONB,
  lang JSONB,
  lang_objs JSONB,

  premium BOOLEAN DEFAULT false,
  vip BOOLEAN DEFAULT false,
  paid BOOLEAN DEFAULT false,
  asset_status VARCHAR(50),

  start_date BIGINT,
  end_date BIGINT,
  broadcast_date BIGINT,

  thumbnail TEXT,
  portrait_thumbnail TEXT,
  images JSONB,
  source_images JSONB,

  deep_link_url TEXT,
  deep_link_url_living_room TEXT,
  play_uri TEXT,
  locators JSONB,

  actors JSONB,
  directors JSONB,
  producers JSONB,
  anchors JSONB,

  search_keywords JSONB,
  trailers JSONB,
  trailer_deep_links JSONB,
  parental_rating INTEGER,
  parental_rating_name VARCHAR(50),

  channel_object JSONB,

  api_update_date BIGINT,
  created_at TIMESTAMPTZ DEFAULT now(),
  updated_at TIMESTAMPTZ DEFAULT now(),
  last_synced_at TIMESTAMPTZ DEFAULT now(),
  is_deleted BOOLEAN NOT NULL DEFAULT false,
  deleted_at TIMESTAMPTZ,

  raw_response JSONB,

  -- Added to the seed's columns (docs/schema.md).
  content_hash TEXT NOT NULL,
  deleted_reason TEXT CHECK (deleted_reason IN ('unpublished', 'expired', 'vanished')),
  first_seen_run_id BIGINT,
  last_changed_run_id BIGINT
);

CREATE INDEX idx_year ON hotstar_movies (year);
CREATE INDEX idx_premium ON hotstar_movies (premium);
CREATE INDEX idx_asset_status ON hotstar_movies (asset_status);
CREATE INDEX idx_api_update_date ON hotstar_movies (api_update_date);
CREATE INDEX idx_last_synced_at ON hotstar_movies (last_synced_at);
CREATE INDEX idx_is_deleted ON hotstar_movies (is_deleted);
-- jsonb_path_ops: smaller and faster for containment (genre @> '["Drama"]'), the only
-- operator the catalogue's array columns are filtered with; `?` would not use it.
CREATE INDEX idx_genre ON hotstar_movies USING GIN (genre jsonb_path_ops);
CREATE INDEX idx_lang ON hotstar_movies USING GIN (lang jsonb_path_ops);
-- Full passes plan their startDate windows from the mirror's own distribution.
CREATE INDEX idx_movies_start_date ON hotstar_movies (start_date);
"""

# The seed's trigger, refined: updated_at moves when the row changes, not when a sync only
# stamps last_synced_at on an item it saw unchanged, nor on an UPDATE that changes nothing.
# So updated_at means "content or deletion state changed" (design: change detection).
# OLD is a local copy in PL/pgSQL; assigning to it changes nothing in the table.
UPDATED_AT_TRIGGER = """
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
   OLD.last_synced_at = NEW.last_synced_at;
   OLD.updated_at = NEW.updated_at;
   IF NEW IS DISTINCT FROM OLD THEN
      NEW.updated_at = CURRENT_TIMESTAMP;
   END IF;
   RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TRIGGER update_hotstar_movies_updated_at
  BEFORE UPDATE ON hotstar_movies
  FOR EACH ROW
  EXECUTE FUNCTION update_updated_at_column();
"""

SYNC_LOG = """
CREATE TABLE hotstar_sync_log (
  id BIGSERIAL PRIMARY KEY,
  sync_type VARCHAR(50) NOT NULL,  -- 'initial', 'daily', 'incremental', 'reconcile'
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at TIMESTAMPTZ,
  status VARCHAR(50) NOT NULL DEFAULT 'running' CHECK (status IN
    ('running', 'completed', 'incomplete', 'refused', 'failed', 'abandoned')),

  total_items_fetched INTEGER DEFAULT 0,
  items_added INTEGER DEFAULT 0,
  items_updated INTEGER DEFAULT 0,
  items_deleted INTEGER DEFAULT 0,
  api_requests_made INTEGER DEFAULT 0,

  from_update_date BIGINT,
  to_update_date BIGINT,

  errors JSONB,

  duration_seconds INTEGER,

  -- Added to the seed's columns (docs/schema.md).
  content_type TEXT NOT NULL DEFAULT 'movie',
  items_restored INTEGER DEFAULT 0,
  items_quarantined INTEGER DEFAULT 0,
  error_count INTEGER DEFAULT 0,
  incomplete_windows JSONB,
  details JSONB,
  pid INTEGER,
  hostname TEXT
);

-- (sync_type, started_at) rather than sync_type alone: the seed's health check and the
-- status page ask for the latest run of one type.
CREATE INDEX idx_sync_type ON hotstar_sync_log (sync_type, started_at);
CREATE INDEX idx_started_at ON hotstar_sync_log (started_at);
CREATE INDEX idx_status ON hotstar_sync_log (status);
"""

# The token value is never stored (design: "Runs and safety"); the CHECK makes the database
# refuse it too, so code written after the seed's INSERT cannot slip one in.
API_TOKENS = """
CREATE TABLE hotstar_api_tokens (
  id BIGSERIAL PRIMARY KEY,
  token TEXT CONSTRAINT hotstar_api_tokens_no_token_value CHECK (token IS NULL),
  generated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  is_active BOOLEAN DEFAULT true,
  fingerprint TEXT NOT NULL
);

CREATE INDEX idx_expires_at ON hotstar_api_tokens (expires_at);
CREATE INDEX idx_is_active ON hotstar_api_tokens (is_active);
"""

SYNC_WINDOWS = """
CREATE TABLE hotstar_sync_windows (
  id BIGSERIAL PRIMARY KEY,
  run_id BIGINT NOT NULL REFERENCES hotstar_sync_log (id) ON DELETE CASCADE,
  content_type TEXT NOT NULL,
  window_key TEXT NOT NULL,
  filters JSONB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('split', 'done', 'unverified')),
  total_results INTEGER,
  items_seen INTEGER,
  requests INTEGER,
  completed_at TIMESTAMPTZ DEFAULT now(),
  UNIQUE (run_id, window_key)
);
"""

QUARANTINE = """
CREATE TABLE hotstar_quarantine (
  id BIGSERIAL PRIMARY KEY,
  content_type TEXT NOT NULL,
  item_key TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw_item JSONB,
  first_run_id BIGINT,
  last_run_id BIGINT,
  first_seen_at TIMESTAMPTZ DEFAULT now(),
  last_seen_at TIMESTAMPTZ DEFAULT now(),
  times_seen INTEGER DEFAULT 1,
  resolved_at TIMESTAMPTZ,
  UNIQUE (content_type, item_key)
);
"""

# Append-only: the main database replays this feed, so a row once written must never change.
# TRUNCATE is refused as well; pruning old rows is a deliberate act by the table's owner
# (ALTER TABLE ... DISABLE TRIGGER), never something a job does.
CHANGE_LOG = """
CREATE TABLE hotstar_change_log (
  id BIGSERIAL PRIMARY KEY,
  run_id BIGINT,
  content_type TEXT NOT NULL,
  content_id TEXT NOT NULL,
  change TEXT NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
  changed_fields TEXT[],
  reason TEXT,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_change_log_changed_at ON hotstar_change_log (changed_at);
CREATE INDEX idx_change_log_run_id ON hotstar_change_log (run_id);
CREATE INDEX idx_change_log_content ON hotstar_change_log (content_type, content_id);

CREATE OR REPLACE FUNCTION hotstar_change_log_append_only()
RETURNS TRIGGER AS $$
BEGIN
   RAISE EXCEPTION 'hotstar_change_log is append-only: % refused', TG_OP
     USING ERRCODE = 'restrict_violation';
END;
$$ language 'plpgsql';

CREATE TRIGGER hotstar_change_log_no_update_delete
  BEFORE UPDATE OR DELETE ON hotstar_change_log
  FOR EACH ROW
  EXECUTE FUNCTION hotstar_change_log_append_only();

CREATE TRIGGER hotstar_change_log_no_truncate
  BEFORE TRUNCATE ON hotstar_change_log
  FOR EACH STATEMENT
  EXECUTE FUNCTION hotstar_change_log_append_only();
"""


def upgrade() -> None:
    for sql in (
        MOVIES,
        UPDATED_AT_TRIGGER,
        SYNC_LOG,
        API_TOKENS,
        SYNC_WINDOWS,
        QUARANTINE,
        CHANGE_LOG,
    ):
        op.execute(sql)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE hotstar_change_log, hotstar_quarantine, hotstar_sync_windows,
                   hotstar_api_tokens, hotstar_sync_log, hotstar_movies;
        DROP FUNCTION hotstar_change_log_append_only();
        DROP FUNCTION update_updated_at_column();
        """
    )
