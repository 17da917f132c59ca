import pytest

from hotstar_sync.db import migrate, schema
from hotstar_sync.errors import DatabaseError


def test_the_cheap_head_is_alembics_head():
    assert schema.schema_head() == migrate.head()


def test_require_head_accepts_a_current_schema_and_refuses_an_old_one(db_url):
    schema.require_head(db_url)
    import psycopg

    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(DatabaseError, match=r"^the source database is at revision 0000, not "):
        schema.require_head(db_url)
