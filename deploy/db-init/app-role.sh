#!/bin/sh
# The application's database role, made once, when the database's volume is first initialised
# (the postgres image runs /docker-entrypoint-initdb.d/ then, as POSTGRES_USER, the owner). It
# owns nothing: the migrate job grants it what it may do (manage.py grant_app_role). A volume
# initialised before this script needs the role made by hand: docs/deploy.md, "Database roles".
set -eu
psql -v ON_ERROR_STOP=1 -v password="$POSTGRES_APP_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE finassist_app LOGIN PASSWORD :'password';
SQL
