# ivfflat recall thresholds on generated data (fixed seeds; 50 overlapping
# clusters, 50 lists; measured 0.895 at probes 1, 0.971-0.975 at probes 3), at fixed
# ivfflat.probes: after the build, after inserts that follow the build (they
# go to the nearest of the build's lists), and after deleting half the rows
# and VACUUM.  Exact answers come from ORDER BY (distance) + 0, which no
# index can serve.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 24;
my $node = PostgreSQL::Test::Cluster->new('ivfrecall');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = 128MB\nautovacuum = off\n");
$node->start;

# clustered data: 50 random centres, each row a centre plus small noise
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.41);
	CREATE TABLE centres AS
	SELECT c, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE c >= 0) AS x
	FROM generate_series(0, 49) c;
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
	CREATE FUNCTION point(i int) RETURNS vector LANGUAGE sql AS \$\$
		SELECT ARRAY(SELECT x[d] + (random() - 0.5) * 0.9 FROM generate_series(1, $dim) d)::real[]::vector
		FROM centres WHERE c = i % 50 \$\$;
	INSERT INTO items SELECT i, point(i) FROM generate_series(1, 10000) i;
	INSERT INTO queries SELECT i, point(i * 7) FROM generate_series(1, 100) i;
	CREATE INDEX items_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 50);
});

# recall@10 of the queries against exact search at the given probes
sub recall
{
	my ($probes) = @_;
	my $r = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfflat.probes = $probes;
		SELECT round(avg((SELECT count(*) FROM unnest(
			ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10)) a
			WHERE a = ANY(ARRAY(SELECT i.id FROM items i ORDER BY (i.embedding <-> q.embedding) + 0 LIMIT 10))) / 10.0), 4)
		FROM queries q;
	});
	return (split /\n/, $r)[-1];
}

my $one = recall(1);
my $three = recall(3);
cmp_ok($three, '>=', 0.93, "recall\@10 after the build at probes 3: $three");
cmp_ok($one, '>=', 0.85, "recall\@10 after the build at probes 1: $one");
cmp_ok($three, '>=', $one, 'more probes do not lower recall');
is(recall(50), '1.0000', 'probing every list is exact');

$node->safe_psql('postgres', 'SELECT setseed(0.42); INSERT INTO items SELECT i, point(i) FROM generate_series(10001, 14000) i');
my $inserted = recall(3);
cmp_ok($inserted, '>=', 0.93, "recall\@10 at probes 3 after 4000 inserts: $inserted");

$node->safe_psql('postgres', 'DELETE FROM items WHERE (id / 50) % 2 = 0');
$node->safe_psql('postgres', 'VACUUM items');
my $vacuumed = recall(3);
cmp_ok($vacuumed, '>=', 0.93, "recall\@10 at probes 3 after deleting half and VACUUM: $vacuumed");
is(recall(50), '1.0000', 'probing every list is still exact after VACUUM');

$node->stop;
done_testing();
