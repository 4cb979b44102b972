# Shards: a coordinator whose partitioned table has postgres_fdw foreign
# partitions on two shard clusters, each shard with its own hnsw index.
# Rows are loaded through the coordinator; kNN through the coordinator, by
# plain SQL and by vectorann_knn, must equal the exact top k while the
# shards have no index, and with hnsw indexes must find at least as many of
# the true neighbours as one server holding all rows at the same settings.
# Inserts, deletes and VACUUM on the shards keep working.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 24;
my $nq = 100;

my @shards;
for my $i (1 .. 2)
{
	my $shard = PostgreSQL::Test::Cluster->new("shard$i");
	$shard->init;
	$shard->start;
	$shard->safe_psql('postgres', qq{
		CREATE EXTENSION vectorann;
		CREATE TABLE items (id bigint PRIMARY KEY, embedding vector($dim));
	});
	push @shards, $shard;
}

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->start;
$coord->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	CREATE EXTENSION postgres_fdw;
	CREATE TABLE items (id bigint, embedding vector($dim)) PARTITION BY HASH (id);
	-- one server with all the rows, for comparison
	CREATE TABLE single (id bigint PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
});
for my $i (0 .. $#shards)
{
	my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
	$coord->safe_psql('postgres', qq{
		CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$host', port '$port', dbname 'postgres', extensions 'vectorann');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
		CREATE FOREIGN TABLE items_$i PARTITION OF items
			FOR VALUES WITH (MODULUS 2, REMAINDER $i) SERVER shard$i OPTIONS (table_name 'items');
	});
}

# uniformly random rows: with small graphs (m = 8, ef_construction = 16) an
# approximate search misses some of the true neighbours
sub load_rows
{
	my ($seed, $from, $to) = @_;
	$coord->safe_psql('postgres', qq{
		SELECT setseed($seed);
		CREATE TEMP TABLE batch AS
			SELECT i::bigint AS id,
				ARRAY(SELECT random() FROM generate_series(1, $dim) WHERE i > 0)::vector AS embedding
			FROM generate_series($from, $to) i;
		INSERT INTO items SELECT * FROM batch;
		INSERT INTO single SELECT * FROM batch;
	});
}
load_rows(0.11, 1, 6000);
$coord->safe_psql('postgres', qq{
	SELECT setseed(0.5);
	INSERT INTO queries
	SELECT i, ARRAY(SELECT random() FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, $nq) i;
	ANALYZE single, queries;
});

my $rows_on_shards = 0;
$rows_on_shards += $_->safe_psql('postgres', 'SELECT count(*) FROM items') for @shards;
is($rows_on_shards, 6000, 'rows loaded through the coordinator are on the shards');
cmp_ok($shards[0]->safe_psql('postgres', 'SELECT count(*) FROM items'), '>', 2500,
	'both shards hold a share');

# one line per query: the ids of its k nearest, by the given query form
my %form = (
	exact => q{SELECT q.id, ARRAY(SELECT s.id FROM single s
		ORDER BY s.embedding <-> q.embedding, s.id LIMIT 10) FROM queries q ORDER BY q.id},
	single => q{SELECT q.id, ARRAY(SELECT s.id FROM single s
		ORDER BY s.embedding <-> q.embedding LIMIT 10) FROM queries q ORDER BY q.id},
	plain => q{SELECT q.id, ARRAY(SELECT i.id FROM items i
		ORDER BY i.embedding <-> q.embedding LIMIT 10) FROM queries q ORDER BY q.id},
	knn => q{SELECT q.id, ARRAY(SELECT k.id FROM vectorann_knn('items', q.embedding, 10) k)
		FROM queries q ORDER BY q.id});

sub answers
{
	my ($form, $settings) = @_;
	my %out;
	for my $line (split /\n/, $coord->safe_psql('postgres', ($settings // '') . $form{$form}))
	{
		my ($qid, $ids) = split /\|/, $line;
		$ids =~ s/[{}]//g;
		$out{$qid} = [ split /,/, $ids ];
	}
	return \%out;
}

# recall@10 of an answer against the exact one
sub recall
{
	my ($got, $exact) = @_;
	my ($hits, $all) = (0, 0);
	for my $q (keys %$exact)
	{
		my %truth = map { $_ => 1 } @{ $exact->{$q} };
		$hits += grep { $truth{$_} } @{ $got->{$q} // [] };
		$all += scalar @{ $exact->{$q} };
	}
	return $hits / $all;
}

# without indexes every plan is exact (distance ties are not expected with
# random real coordinates)
my $exact_sql = 'SET enable_indexscan = off; ';
my $exact = answers('exact', $exact_sql);
is_deeply(answers('plain'), $exact, 'no index: the partitioned query equals the exact top 10');
is_deeply(answers('knn'), $exact, 'no index: vectorann_knn equals the exact top 10');

# indexes on the shards and on the single server, same settings
$_->safe_psql('postgres',
	'CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 16)')
  for @shards;
$coord->safe_psql('postgres',
	'CREATE INDEX ON single USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 16)');
# postgres_fdw passes no settings: the shards' own make them use the index
# for the plain SQL form (they would pick an exact sequential scan on so few
# rows), at their default hnsw.ef_search (40)
$_->safe_psql('postgres', 'ALTER DATABASE postgres SET enable_seqscan = off') for @shards;

# the plans: each shard is asked for its own ORDER BY ... LIMIT
my $plan = $coord->safe_psql('postgres', q{
	EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1) LIMIT 10});
like($plan, qr/Remote SQL: .*ORDER BY \(embedding OPERATOR\(public\.<->\)/, 'the shards get the ORDER BY');
like($shards[0]->safe_psql('postgres', q{
	SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM items LIMIT 1) LIMIT 10}),
	qr/Index Scan using items_embedding_idx/, 'a shard plans its hnsw index');

sub check_recall
{
	my ($stage) = @_;
	my %single;
	for my $ef (10, 40)
	{
		my $set = "SET hnsw.ef_search = $ef; SET enable_seqscan = off; ";
		$single{$ef} = recall(answers('single', $set), $exact);
		my $knn = recall(answers('knn', $set), $exact);
		note("$stage, ef_search $ef: recall\@10 one server $single{$ef}, vectorann_knn $knn");
		# the graphs are built anew in each run (random levels): 0.01 (10 of
		# the 1,000 neighbours) of noise is allowed
		cmp_ok($knn, '>=', $single{$ef} - 0.01,
			"$stage, ef_search $ef: vectorann_knn's recall\@10 is at least one server's");
	}
	# approximate indeed, so that the comparisons say something
	cmp_ok($single{10}, '<', 1, "$stage: one server's recall\@10 at ef_search 10 is below 1");
	my $plain = recall(answers('plain', 'SET enable_seqscan = off; '), $exact);
	note("$stage: plain SQL through the coordinator (shards at ef_search 40): $plain");
	cmp_ok($plain, '>=', $single{40} - 0.01, "$stage: plain SQL's recall\@10 is at least one server's");
}
check_recall('after the build');

# the search settings cross to a shard once per session and again only when
# they change: three calls, ef_search changed before the third, two SETs (a
# value kept in GetConfigOption's static buffer once made every call SET
# hnsw.ef_search again, one more round trip per shard per call)
$shards[0]->safe_psql('postgres', q{ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf()});
my $log_offset = -s $shards[0]->logfile;
my $call = q{SELECT count(*) FROM vectorann_knn('items', (SELECT embedding FROM queries WHERE id = 1), 10);};
$coord->safe_psql('postgres', "SET hnsw.ef_search = 40; $call $call SET hnsw.ef_search = 10; $call");
my $shard_log = slurp_file($shards[0]->logfile, $log_offset);
is(scalar(() = $shard_log =~ /SET hnsw\.ef_search/g), 2, 'a shard is sent hnsw.ef_search only when it changes');
is(scalar(() = $shard_log =~ /execute vectorann_knn_\d+/g), 3, 'a shard runs each call\'s search');
$shards[0]->safe_psql('postgres', q{ALTER SYSTEM RESET log_statement; SELECT pg_reload_conf()});

# more rows through the coordinator, a third deleted, VACUUM on the shards
load_rows(0.22, 6001, 8000);
$coord->safe_psql('postgres', q{
	DELETE FROM items WHERE id % 3 = 0;
	DELETE FROM single WHERE id % 3 = 0;
	VACUUM single;
});
$_->safe_psql('postgres', 'VACUUM items') for @shards;
is(join(',', map { $_->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_embedding_idx')}) } @shards),
	'0,0', 'hnsw_check finds nothing on the shards');
$exact = answers('exact', $exact_sql);
my $deleted = 0;
for my $form ('plain', 'knn')
{
	my $got = answers($form, 'SET enable_seqscan = off; ');
	$deleted += grep { $_ % 3 == 0 } map { @$_ } values %$got;
}
is($deleted, 0, 'no deleted row comes back through the coordinator');
check_recall('after inserts, deletes and VACUUM');

$_->stop for ($coord, @shards);
done_testing();
