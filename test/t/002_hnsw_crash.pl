# Crash recovery: kill -9 the postmaster while several backends insert into
# an hnsw index, restart, and check that WAL replay left a sound index in
# which every committed row is found by an exact-match kNN query.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use VaCrash qw(crash_during_inserts);

my $dim = 16;
my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = off\n");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector($dim));
	SELECT setseed(0.5);
	INSERT INTO items (embedding)
	SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 2000) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
	CHECKPOINT;
});

# four backends insert random vectors until the crash, and one in four
# inserts is a copy of one of the first 50 rows (a duplicate item on that
# element's chain)
crash_during_inserts($node, 4000,
	[ "INSERT INTO items (embedding) SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector;", 3 ],
	[ "INSERT INTO items (embedding) SELECT embedding FROM items WHERE id = 1 + (random() * 49)::int;", 1 ]);

is($node->safe_psql('postgres',
	q{SELECT count(*) FROM hnsw_check('items_idx') WHERE problem <> 'unreachable'}),
	'0', 'hnsw_check finds no structural violation after recovery');

# VACUUM relinks anything the inserts' pruning left unreachable
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}),
	'0', 'hnsw_check finds nothing after VACUUM');

cmp_ok($node->safe_psql('postgres',
	'SELECT count(*) FROM items WHERE id > 50 AND embedding IN (SELECT embedding FROM items WHERE id <= 50)'), '>', 0,
	'copies were inserted before the crash');
my $missing = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM items i1
	WHERE i1.id NOT IN (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 500);
});
is($missing, '0', 'every committed row is found by an exact-match kNN query');

# the recovered index keeps accepting inserts
$node->safe_psql('postgres', "INSERT INTO items (embedding) VALUES (array_fill(0.5, ARRAY[$dim])::real[]::vector)");
is($node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT embedding = array_fill(0.5, ARRAY[$dim])::real[]::vector FROM items
	ORDER BY embedding <-> array_fill(0.5, ARRAY[$dim])::real[]::vector LIMIT 1}),
	't', 'an insert after recovery is found');

$node->stop;
done_testing();
