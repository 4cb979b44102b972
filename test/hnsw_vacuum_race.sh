#!/bin/bash
# test/hnsw_vacuum_race.sh: repeat test/t/003_hnsw_concurrency.pl's concurrent
# phase (clients inserting, querying and deleting rows of an hnsw index while VACUUM
# runs beside them) against a running server, and after each run count the live rows
# that an exact-match query (ORDER BY v <-> own vector LIMIT 1, ef_search 40) misses.
#
#   test/hnsw_vacuum_race.sh RUNS [psql/pgbench connection options...]
#   e.g. test/hnsw_vacuum_race.sh 60 -h /tmp/sock -p 55492 -U postgres
#
# Env: DIM (16), ROWS (3000 rows at first), TX (transactions per load client, 400),
# VACUUMS (8), CLIENTS (4), EXT (vectorann; `vector` runs the same on pgvector),
# KEEP=1 keeps the table of a run with misses as items_miss_<run>.
# Prints one line per run and a total; exits 1 if any run missed a row.
set -u
RUNS=${1:?runs}; shift
CONN=("$@")
DIM=${DIM:-16}; ROWS=${ROWS:-3000}; TX=${TX:-400}; VACUUMS=${VACUUMS:-8}
CLIENTS=${CLIENTS:-4}; EXT=${EXT:-vectorann}
DIR=$(mktemp -d /tmp/hnsw_race.XXXX)
trap 'rm -rf "$DIR"' EXIT
PSQL=(psql -X -q -t -A -v ON_ERROR_STOP=1 "${CONN[@]}")

echo "INSERT INTO items (embedding) SELECT ARRAY(SELECT random()::real FROM generate_series(1, $DIM))::vector;" > $DIR/insert.sql
printf 'SET enable_seqscan = off;\nSELECT id FROM items ORDER BY embedding <-> (SELECT ARRAY(SELECT random()::real FROM generate_series(1, %s))::vector) LIMIT 10;\n' $DIM > $DIR/query.sql
echo "DELETE FROM items WHERE id = (SELECT (random() * $((ROWS * 2)))::int);" > $DIR/delete.sql
echo "VACUUM items;" > $DIR/vacuum.sql

"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS $EXT" || exit 2
total=0; bad=0
for run in $(seq 1 "$RUNS"); do
	"${PSQL[@]}" >/dev/null <<SQL || exit 2
DROP TABLE IF EXISTS items;
CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector($DIM));
SELECT setseed(0.25);
INSERT INTO items (embedding)
SELECT ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)::vector
FROM generate_series(1, $ROWS) i;
CREATE INDEX items_idx ON items USING hnsw (embedding);
SQL
	pgbench -n -c "$CLIENTS" -j 2 -t "$TX" -f $DIR/insert.sql@5 -f $DIR/query.sql@4 \
		-f $DIR/delete.sql@1 "${CONN[@]}" > $DIR/load.out 2>&1 &
	load=$!
	pgbench -n -c 1 -t "$VACUUMS" -f $DIR/vacuum.sql "${CONN[@]}" > $DIR/vacuum.out 2>&1 &
	vac=$!
	wait $load || { cat $DIR/load.out; exit 2; }
	wait $vac || { cat $DIR/vacuum.out; exit 2; }
	missed=$("${PSQL[@]}" <<SQL
VACUUM items;
SET enable_seqscan = off;
SELECT coalesce(string_agg(id::text, ' '), '') FROM items i1
WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
SQL
)
	n=$(echo $missed | wc -w)
	rows=$("${PSQL[@]}" -c "SELECT count(*) FROM items")
	total=$((total + n))
	[ "$n" -gt 0 ] && bad=$((bad + 1))
	echo "run $run: $rows rows, $n missed${missed:+ (ids $missed)}"
	if [ "$n" -gt 0 ] && [ "${KEEP:-0}" = 1 ]; then
		"${PSQL[@]}" -c "DROP TABLE IF EXISTS items_miss_$run; ALTER TABLE items RENAME TO items_miss_$run; ALTER INDEX items_idx RENAME TO items_miss_${run}_idx"
	fi
done
echo "total: $total rows missed in $bad of $RUNS runs"
[ "$total" -eq 0 ]
