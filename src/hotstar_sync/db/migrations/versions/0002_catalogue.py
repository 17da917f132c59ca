"""The rest of the catalogue: shows, seasons, episodes, matches and channels (issue 8).

Revision ID: 0002
Revises: 0001

One table per type in hotstar_movies' style: typed columns for the fields the API contract
lists, the raw item whole, the content hash, the audit and soft-delete columns, and the run
ids. content_id is TEXT for every type: a show's contentId is a JSON number, stored as its
digits, so one text key serves the change log, the quarantine and every job. UNIQUE on
content_id and on the numeric id (hotstar_id), as for movies: an item reusing another's id is
quarantined. The column lists are written out here, not read from the model, so this
revision stays what it was when later revisions change the model. docs/schema.md describes
every table.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = """
  id BIGSERIAL PRIMARY KEY,
  hotstar_id BIGINT NOT NULL UNIQUE,
  content_id VARCHAR(50) NOT NULL UNIQUE,
"""

# The fields movies, shows, episodes and matches share (hotstar_movies' columns).
MEDIA = """
  title VARCHAR(500) NOT NULL,
  description TEXT,
  content_type VARCHAR(50),
  year INTEGER,
  {duration}
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
"""

AUDIT = """
  created_at TIMESTAMPTZ DEFAULT now(),
  updated_at TIMESTAMPTZ DEFAULT now(),
  last_synced_at TIMESTAMPTZ DEFAULT now(),
  is_deleted BOOLEAN NOT NULL DEFAULT false,
  deleted_at TIMESTAMPTZ,
  raw_response JSONB,
  content_hash TEXT NOT NULL,
  deleted_reason TEXT CHECK (deleted_reason IN ('unpublished', 'expired', 'vanished')),
  first_seen_run_id BIGINT,
  last_changed_run_id BIGINT
"""

DURATION = "duration INTEGER,"

TABLES = {
    "hotstar_shows": MEDIA.format(duration=""),
    "hotstar_seasons": """
  show_id BIGINT NOT NULL,
  display_season_no INTEGER,
  episode_cnt INTEGER,
  title VARCHAR(500) NOT NULL,
  channel_id BIGINT,
  category_id BIGINT,
  images JSONB,
  thumbnail TEXT,
  asset_status VARCHAR(50),
  start_date BIGINT,
  end_date BIGINT,
  api_update_date BIGINT,
""",
    "hotstar_episodes": MEDIA.format(duration=DURATION)
    + """
  episode_no INTEGER,
  season_no INTEGER,
  season_id BIGINT,
  show_id BIGINT,
""",
    "hotstar_matches": MEDIA.format(duration=DURATION)
    + """
  sports_season_id BIGINT,
  tournament_id BIGINT,
  si_match_id BIGINT,
  game_name VARCHAR(100),
  live BOOLEAN,
""",
    "hotstar_channels": """
  name VARCHAR(500) NOT NULL,
  enabled_platforms JSONB,
  asset_status VARCHAR(50),
  start_date BIGINT,
  end_date BIGINT,
  api_update_date BIGINT,
  es_update_date BIGINT,
""",
}

# Short names for the index names: PostgreSQL index names share one namespace per schema.
SHORT = {
    "hotstar_shows": "shows",
    "hotstar_seasons": "seasons",
    "hotstar_episodes": "episodes",
    "hotstar_matches": "matches",
    "hotstar_channels": "channels",
}

# Full passes plan startDate windows from the mirror (start_date); the status page and the
# main database ask by change time and deletion state; seasons and episodes are found by
# their show (a season sync refreshes one show's seasons at a time).
INDEXES = {
    "hotstar_shows": ("start_date", "api_update_date", "is_deleted"),
    "hotstar_seasons": ("show_id", "start_date", "is_deleted"),
    "hotstar_episodes": ("show_id", "season_id", "start_date", "api_update_date", "is_deleted"),
    "hotstar_matches": ("start_date", "api_update_date", "tournament_id", "is_deleted"),
    "hotstar_channels": (),
}


def upgrade() -> None:
    for table, columns in TABLES.items():
        short = SHORT[table]
        op.execute(f"CREATE TABLE {table} ({ID}{columns}{AUDIT})")
        for column in INDEXES[table]:
            op.execute(f"CREATE INDEX idx_{short}_{column} ON {table} ({column})")
        # The updated_at trigger function of 0001: updated_at moves only on a real change.
        op.execute(
            f"CREATE TRIGGER update_{table}_updated_at BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()"
        )


def downgrade() -> None:
    op.execute(f"DROP TABLE {', '.join(reversed(TABLES))}")
