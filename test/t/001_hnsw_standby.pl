# A streaming standby replays the WAL of an hnsw index through its build,
# inserts after the build, deletes + VACUUM, REINDEX, and duplicate vectors
# (chains built, then relinked by VACUUM), and answers the same kNN queries
# as the primary at every stage, also while the primary takes inserts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

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

# $n random rows with ids from $from, deterministic for a given seed
sub insert_rows
{
	my ($seed, $from, $to) = @_;
	$primary->safe_psql('postgres', qq{
		SELECT setseed($seed);
		INSERT INTO items
		SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
		FROM generate_series($from, $to) i;
	});
}

# ids of the 10 nearest rows for each query, one line per query
my $knn = qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 40;
	SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10)
	FROM queries q ORDER BY q.id;
};

# For each query the primary's index answer must be 10 distinct live rows in
# distance order; counted against the exact answer (a sequential scan), a
# returned row is a hit when it is no farther than the exact 10th nearest.
# One line: queries|complete answers|rows out of order|hits|rows returned.
my $quality = qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 40;
	WITH ans AS (
		SELECT q.id AS qid, a.ord, a.id, i.embedding <-> q.embedding AS d
		FROM queries q
		CROSS JOIN LATERAL unnest(ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10))
			WITH ORDINALITY AS a(id, ord)
		LEFT JOIN items i ON i.id = a.id
	), per_query AS (
		SELECT a.qid, count(*) AS n, count(DISTINCT a.id) AS ids, count(d) AS live,
			count(*) FILTER (WHERE d < prev_d) AS out_of_order,
			count(*) FILTER (WHERE d <= (SELECT (i.embedding <-> q.embedding) + 0 FROM items i
				ORDER BY 1 OFFSET 9 LIMIT 1)) AS hits
		FROM (SELECT *, lag(d) OVER (PARTITION BY qid ORDER BY ord) AS prev_d FROM ans) a
		JOIN queries q ON q.id = a.qid
		GROUP BY a.qid
	)
	SELECT (SELECT count(*) FROM queries) AS queries,
		count(*) FILTER (WHERE n = 10 AND ids = 10 AND live = 10) AS complete,
		sum(out_of_order) AS out_of_order, sum(hits) AS hits, sum(n) AS returned
	FROM per_query;
};

# exact expectations of the primary's answers: complete, ordered, and a
# recall@10 of at least 0.9 (measured 0.99 at ef_search 40; 0.80 at 10)
sub check_primary
{
	my ($stage) = @_;
	my ($queries, $complete, $out_of_order, $hits, $returned) =
	  split /\|/, $primary->safe_psql('postgres', $quality);
	is("$complete|$out_of_order|$returned", "$queries|0|" . 10 * $queries,
		"$stage: primary returns 10 distinct live rows per query in distance order");
	cmp_ok($hits / $returned, '>=', 0.9, "$stage: primary's recall\@10 ($hits of $returned)");
}

sub compare
{
	my ($stage) = @_;
	$primary->wait_for_catchup($standby);
	my $on_primary = $primary->safe_psql('postgres', $knn);
	my $on_standby = $standby->safe_psql('postgres', $knn);
	check_primary($stage);
	is($on_standby, $on_primary, "$stage: standby gives the same kNN answers");
	# the plan really uses the index on the standby
	my $plan = $standby->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1) LIMIT 10;
	});
	like($plan, qr/Index Scan using items_embedding_idx/, "$stage: standby plans the hnsw index");
}

$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
});
insert_rows(0.1, 1, 3000);
$primary->safe_psql('postgres', qq{
	SELECT setseed(0.2);
	INSERT INTO queries
	SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 25) i;
	CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)
		WITH (m = 16, ef_construction = 64);
});
compare('after build');

insert_rows(0.3, 3001, 4000);
compare('after inserts');

$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 2 = 0');
$primary->safe_psql('postgres', 'VACUUM items');
compare('after deletes and VACUUM');

# no deleted row comes back on the standby
my $deleted = $standby->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM queries q,
	  LATERAL (SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) r
	WHERE r.id % 2 = 0;
});
is($deleted, '0', 'standby returns no deleted rows');

# rows inserted after the VACUUM reuse freed heap slots
insert_rows(0.4, 4001, 4500);
compare('after inserts following VACUUM');

$primary->safe_psql('postgres', 'REINDEX INDEX items_embedding_idx');
compare('after REINDEX');

# each live row is found by an exact-match query on the standby
my $found = $standby->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FILTER (WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) = i1.id) = count(*)
	FROM items i1;
});
is($found, 't', 'standby finds every live row by its own vector');

# identical vectors: 40 copies of each of 10 rows join their element's
# duplicate chain; then the originals and half the copies are deleted, so
# VACUUM moves a copy into each element and relinks the chains
$primary->safe_psql('postgres', q{
	INSERT INTO items SELECT 100000 + i.id * 100 + r, i.embedding
	FROM items i, generate_series(1, 40) r WHERE i.id BETWEEN 1 AND 20 AND i.id % 2 = 1;
	INSERT INTO queries SELECT 1000 + id, embedding FROM items WHERE id BETWEEN 1 AND 20 AND id % 2 = 1;
});
compare('after inserting duplicates');
my $copies = qq{
	SET enable_seqscan = off;
	SELECT q.id, (SELECT count(*) FROM (SELECT i.embedding <-> q.embedding AS d FROM items i
		ORDER BY i.embedding <-> q.embedding LIMIT 60) s WHERE d = 0)
	FROM queries q WHERE q.id > 1000 ORDER BY q.id;
};
is($standby->safe_psql('postgres', $copies),
	join("\n", map { (1000 + $_) . '|41' } grep { $_ % 2 } 1 .. 20),
	'standby returns every copy of a duplicated vector');
$primary->safe_psql('postgres', q{
	DELETE FROM items WHERE id BETWEEN 1 AND 20 OR (id > 100000 AND id % 2 = 0);
	VACUUM items;
});
compare('after deleting duplicates and VACUUM');
is($standby->safe_psql('postgres', $copies),
	join("\n", map { (1000 + $_) . '|20' } grep { $_ % 2 } 1 .. 20),
	'standby returns the surviving copies after VACUUM');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_embedding_idx')}),
	'0', 'hnsw_check finds nothing on the standby');

# the standby answers while the primary takes inserts: two clients insert
# 3,000 rows one at a time; meanwhile each standby answer is complete, in
# distance order and as good as the primary's (against the exact answer on
# the standby's own snapshot)
my $dir = PostgreSQL::Test::Utils::tempdir;
open(my $fh, '>', "$dir/insert.sql") or die;
print $fh "INSERT INTO items SELECT nextval('items_more'), "
  . "ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector;\n";
close $fh;
$primary->safe_psql('postgres', 'CREATE SEQUENCE items_more START 200000');
my ($out, $err) = ('', '');
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-j', '2', '-t', '1500', '-f', "$dir/insert.sql",
	  '-h', $primary->host, '-p', $primary->port, 'postgres' ],
	'>', \$out, '2>', \$err);
my ($rounds, $good, $during) = (0, 0, 0);
while ($load->pumpable || $rounds < 3)
{
	$during++ if $load->pumpable;
	my ($queries, $complete, $out_of_order, $hits, $returned) =
	  split /\|/, $standby->safe_psql('postgres', $quality);
	$rounds++;
	$good++ if $complete == $queries && $out_of_order == 0 && $hits / $returned >= 0.9;
	last if $rounds >= 50;
	$load->pump_nb if $load->pumpable;
}
ok($load->finish, 'inserts on the primary ran without errors') or diag($err);
note("$during of $rounds standby rounds began while the inserts ran");
is($good, $rounds, "standby answers during the inserts ($rounds rounds): complete, ordered, recall >= 0.9");
is($primary->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id >= 200000'), '3000',
	'all concurrent inserts committed');
compare('after concurrent inserts');

$standby->stop;
$primary->stop;
done_testing();
