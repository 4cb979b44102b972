# Recall thresholds on generated data (fixed seeds): after the build, after
# inserts that follow the build, and after deleting half the rows of a
# rebuilt index and VACUUM, compared with a fresh build on the remaining rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 24;
my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = 128MB\nautovacuum = off\n");
$node->start;

# clustered data: 50 random centres, each row a centre plus small noise
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.11);
	CREATE TABLE centres AS
	SELECT c, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE c >= 0) AS x
	FROM generate_series(0, 49) c;
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
	CREATE FUNCTION point(i int) RETURNS vector LANGUAGE sql AS \$\$
		SELECT ARRAY(SELECT x[d] + (random() - 0.5) * 0.2 FROM generate_series(1, $dim) d)::real[]::vector
		FROM centres WHERE c = i % 50 \$\$;
	INSERT INTO items SELECT i, point(i) FROM generate_series(1, 8000) i;
	INSERT INTO queries SELECT i, point(i * 7) FROM generate_series(1, 100) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
});

# recall@10 of the queries against exact search
sub recall
{
	my $r = $node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SET hnsw.ef_search = 40;
		SELECT round(avg((SELECT count(*) FROM unnest(
			ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10)) a
			WHERE a = ANY(ARRAY(SELECT i.id FROM items i ORDER BY (i.embedding <-> q.embedding) + 0 LIMIT 10))) / 10.0), 4)
		FROM queries q;
	});
	return (split /\n/, $r)[-1];
}

my $built = recall();
cmp_ok($built, '>=', 0.95, "recall\@10 after the build: $built");

$node->safe_psql('postgres', 'SELECT setseed(0.12); INSERT INTO items SELECT i, point(i) FROM generate_series(8001, 12000) i');
my $inserted = recall();
cmp_ok($inserted, '>=', 0.95, "recall\@10 after 4000 inserts: $inserted");

# rebuild first, so that what follows is deterministic (inserts draw their
# levels from the backend's random state; the build's generator is seeded)
$node->safe_psql('postgres', 'REINDEX INDEX items_idx');
$node->safe_psql('postgres', 'DELETE FROM items WHERE (id / 50) % 2 = 0');
$node->safe_psql('postgres', 'VACUUM items');
my $vacuumed = recall();
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}),
	'0', 'hnsw_check finds nothing after VACUUM')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx')}));

$node->safe_psql('postgres', 'REINDEX INDEX items_idx');
my $fresh = recall();
cmp_ok($vacuumed, '>=', $fresh - 0.02,
	"recall\@10 after deleting half and VACUUM ($vacuumed) within 0.02 of a fresh build ($fresh)");

$node->stop;
done_testing();
