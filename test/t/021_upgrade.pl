# Extension upgrade 0.1.0 -> 0.2.0: an installation made with the 0.1.0
# script and updated with ALTER EXTENSION has the same objects as a fresh
# 0.2.0 installation, and indexes made before the update keep answering
# (their metapages read as quantization = 'none') while quantized indexes
# can be made after it.  (The indexes here are written by this build's
# code; the 0.1.0 on-disk format is this format with zeros where the
# quantization fields now are.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $members = q{
	SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY pg_describe_object(classid, objid, 0))
	FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vectorann')
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION vectorann');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'vectorann'}),
	'0.2.0', 'a fresh installation is 0.2.0');

$node->safe_psql('postgres', q{
	CREATE EXTENSION vectorann VERSION '0.1.0';
	CREATE TABLE items (id int PRIMARY KEY, v vector(16));
	SELECT setseed(0.2);
	INSERT INTO items SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
	FROM generate_series(1, 2000) i;
	CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops);
	CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
});
my $knn = q{
	SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfflat.probes = 20;
	SELECT string_agg(id::text, ',' ORDER BY ord) FROM (
		SELECT id, row_number() OVER () AS ord FROM (
			SELECT id FROM items ORDER BY v <-> (SELECT v FROM items WHERE id = 7) LIMIT 10) s) t;
};
my $hnsw_before = $node->safe_psql('postgres', $knn);
is($node->safe_psql('postgres', q{SELECT to_regprocedure('vectorann_rabitq_check(integer,integer,bigint,integer)') IS NULL}),
	't', '0.1.0 has no quantizer check');

$node->safe_psql('postgres', 'ALTER EXTENSION vectorann UPDATE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'vectorann'}),
	'0.2.0', 'updated to 0.2.0');
is($node->safe_psql('postgres', $members), $node->safe_psql('fresh', $members),
	'the updated installation has the objects of a fresh one');

is($node->safe_psql('postgres', $knn), $hnsw_before, 'the index made before the update answers as before');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_hnsw')}), '0',
	'hnsw_check finds nothing in the index made before the update');
$node->safe_psql('postgres', q{
	INSERT INTO items SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
	FROM generate_series(2001, 2500) i;
	DROP INDEX items_ivf;
	CREATE INDEX items_q ON items USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
	DROP INDEX items_hnsw;
});
my $exact = $node->safe_psql('postgres', q{
	SET enable_indexscan = off;
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <-> (SELECT v FROM items WHERE id = 2100) AS d FROM items ORDER BY 2, 1 LIMIT 10) s});
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.ef_search = 100;
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <-> (SELECT v FROM items WHERE id = 2100) AS d FROM items
		ORDER BY v <-> (SELECT v FROM items WHERE id = 2100) LIMIT 10) s}),
	$exact, 'a quantized index made after the update gives the exact top 10');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_q')}), '0',
	'hnsw_check finds nothing in the quantized index');

$node->stop;
done_testing();
