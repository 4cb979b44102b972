# ivfflat and WAL: a streaming standby replays the WAL of an ivfflat index
# through its build, inserts that chain new list pages, the first insert into
# an index built on an empty table, deletes + VACUUM and REINDEX, and answers
# the same kNN queries as the primary at every stage; then the primary is
# killed without a checkpoint and crash recovery gives back the same index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_buffers = 64MB\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vectorann');

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

my $dim = 32;

# rows $from..$to, random but deterministic for a given seed
sub insert_rows
{
	my ($table, $seed, $from, $to) = @_;
	$primary->safe_psql('postgres', qq{
		SELECT setseed($seed);
		INSERT INTO $table
		SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
		FROM generate_series($from, $to) i;
	});
}

# ids of the 10 nearest rows for each query, one line per query
sub knn
{
	my ($node, $table) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfflat.probes = 4;
		SELECT q.id, ARRAY(SELECT i.id FROM $table i ORDER BY i.embedding <-> q.embedding LIMIT 10)
		FROM queries q ORDER BY q.id;
	});
}

# The primary's answers against the exact ones (a sequential scan), with
# every list probed, so they must be exact: for each query 10 distinct live
# rows in distance order, each no farther than the exact 10th nearest.
# One line: queries|complete answers|rows out of order|hits|rows returned.
sub check_primary
{
	my ($stage, $table) = @_;
	my ($queries, $complete, $out_of_order, $hits, $returned) =
	  split /\|/, $primary->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfflat.probes = 1000;
		WITH ans AS (
			SELECT q.id AS qid, a.ord, a.id, i.embedding <-> q.embedding AS d
			FROM queries q
			CROSS JOIN LATERAL unnest(ARRAY(SELECT i.id FROM $table i ORDER BY i.embedding <-> q.embedding LIMIT 10))
				WITH ORDINALITY AS a(id, ord)
			LEFT JOIN $table i ON i.id = a.id
		), per_query AS (
			SELECT a.qid, count(*) AS n, count(DISTINCT a.id) AS ids, count(d) AS live,
				count(*) FILTER (WHERE d < prev_d) AS out_of_order,
				count(*) FILTER (WHERE d <= (SELECT (i.embedding <-> q.embedding) + 0 FROM $table i
					ORDER BY 1 OFFSET 9 LIMIT 1)) AS hits
			FROM (SELECT *, lag(d) OVER (PARTITION BY qid ORDER BY ord) AS prev_d FROM ans) a
			JOIN queries q ON q.id = a.qid
			GROUP BY a.qid
		)
		SELECT (SELECT count(*) FROM queries) AS queries,
			count(*) FILTER (WHERE n = 10 AND ids = 10 AND live = 10) AS complete,
			sum(out_of_order) AS out_of_order, sum(hits) AS hits, sum(n) AS returned
		FROM per_query;
	});
	is("$complete|$out_of_order|$hits|$returned", "$queries|0|" . (10 * $queries) . '|' . (10 * $queries),
		"$stage: primary probing every list returns the exact 10 nearest rows");
}

sub compare
{
	my ($stage, $table) = @_;
	$primary->wait_for_catchup($standby);
	my $on_primary = knn($primary, $table);
	check_primary($stage, $table);
	is(knn($standby, $table), $on_primary, "$stage: standby gives the same kNN answers");
	my $plan = $standby->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1) LIMIT 10;
	});
	like($plan, qr/Index Scan using ${table}_idx/, "$stage: standby plans the ivfflat index");
}

$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE empty_at_build (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
});
insert_rows('items', 0.1, 1, 3000);
insert_rows('queries', 0.2, 1, 25);
$primary->safe_psql('postgres', qq{
	CREATE INDEX items_idx ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 30);
	CREATE INDEX empty_at_build_idx ON empty_at_build USING ivfflat (embedding) WITH (lists = 5);
});
compare('after build', 'items');

# 2000 more rows: about 70 per list, so every list chains new pages
insert_rows('items', 0.3, 3001, 5000);
compare('after inserts', 'items');

# the first insert into an index without lists creates one
insert_rows('empty_at_build', 0.35, 1, 500);
compare('after inserts into an index built empty', 'empty_at_build');

$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 2 = 0');
$primary->safe_psql('postgres', 'VACUUM items');
compare('after deletes and VACUUM', 'items');

my $deleted = $standby->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET ivfflat.probes = 30;
	SELECT count(*) FROM queries q,
	  LATERAL (SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) r
	WHERE r.id % 2 = 0;
});
is($deleted, '0', 'standby returns no deleted rows');

insert_rows('items', 0.4, 5001, 5500);
compare('after inserts following VACUUM', 'items');

$primary->safe_psql('postgres', 'REINDEX INDEX items_idx');
compare('after REINDEX', 'items');

# every live row is found by its own vector on the standby, probing all lists
my $found = $standby->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET ivfflat.probes = 30;
	SELECT count(*) FILTER (WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id) = count(*)
	FROM items i1;
});
is($found, 't', 'standby finds every live row by its own vector');
$standby->stop;

# crash recovery: changes after the last checkpoint come back from WAL alone
$primary->safe_psql('postgres', 'CHECKPOINT');
insert_rows('items', 0.5, 5501, 7000);
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 5 = 0; VACUUM items;');
insert_rows('empty_at_build', 0.6, 501, 1000);
my $before_items = knn($primary, 'items');
my $before_empty = knn($primary, 'empty_at_build');
$primary->stop('immediate');
$primary->start;
is(knn($primary, 'items'), $before_items, 'after crash recovery: same kNN answers');
is(knn($primary, 'empty_at_build'), $before_empty,
	'after crash recovery: same kNN answers from the index built empty');
my $amcheck = $primary->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET ivfflat.probes = 30;
	SELECT count(*) = (SELECT count(*) FROM items)
	FROM (SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1)) s;
});
is($amcheck, 't', 'after crash recovery: the index holds every live row');

$primary->stop;
done_testing();
