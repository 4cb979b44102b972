# ivfflat under concurrent writers: several pgbench clients insert rows into
# the same few lists at once (so they race to extend the same chains), while
# other clients run kNN scans and one runs VACUUM.  Afterwards every row is
# in the index exactly once and is found by its own vector, and the index
# contains nothing that is not in the table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

my $dim = 16;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.25);
	CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector($dim));
	INSERT INTO items (embedding)
	SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 500) i;
	CREATE INDEX items_idx ON items USING ivfflat (embedding) WITH (lists = 4);
});

my $vec = "ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector";
$node->pgbench(
	'--no-vacuum --client=6 --jobs=2 --transactions=150',
	0,
	[qr{processed: 900/900}],
	[qr{^$}],
	'concurrent inserts, deletes, scans and VACUUM',
	{
		'ivf_insert' => qq{
			INSERT INTO items (embedding)
			SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE g > 0)::vector
			FROM generate_series(1, 5) g;
		},
		'ivf_scan' => qq{
			SET enable_seqscan = off;
			SET ivfflat.probes = 2;
			SELECT id FROM items ORDER BY embedding <-> $vec LIMIT 10;
		},
		'ivf_delete' => qq{
			DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 2);
		},
		# without TRUNCATE false, once deletes empty the heap's last pages
		# each VACUUM waits 5 s for the lock to truncate them and gives up
		# while another client's VACUUM queues for the table (a queue that
		# re-forms: a quarter of the 900 transactions are VACUUMs): a run
		# on 2026-12-05 spent over 15 minutes so
		'ivf_vacuum@1' => qq{
			VACUUM (TRUNCATE false) items;
		},
	});

$node->safe_psql('postgres', 'VACUUM items');
my $check = qq{
	SET enable_seqscan = off;
	SET ivfflat.probes = 4;
	SELECT (SELECT count(*) FROM items) AS live,
	       count(*) AS indexed,
	       count(DISTINCT id) AS distinct_ids
	FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items LIMIT 1)) s;
};
my ($live, $indexed, $distinct) = split /\|/, $node->safe_psql('postgres', $check);
cmp_ok($live, '>', 500, 'rows were inserted');
is($indexed, $live, 'a full scan returns every live row');
is($distinct, $live, 'and each of them once');

my $found = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET ivfflat.probes = 4;
	SELECT count(*) FILTER (WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id) = count(*)
	FROM items i1;
});
is($found, 't', 'every row is found by its own vector');

# the lists grew past their first page while clients raced to extend them
my $pages = $node->safe_psql('postgres', "SELECT pg_relation_size('items_idx') / 8192");
cmp_ok($pages, '>', 10, 'the lists were extended');

$node->stop;
done_testing();
