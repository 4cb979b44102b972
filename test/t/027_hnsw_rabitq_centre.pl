# hnsw with quantization = 'rabitq' takes its codes about a centre of the
# rows where the build's sample says that helps (src/hnsw/quantize.c,
# choose_centre), and about the origin otherwise: the estimator's error
# grows with the norms it sees, so codes about the origin lose recall on
# rows far from it compared with their spread, while codes about the rows'
# mean lose it on rows of varied norms along shared directions.  Recall@10
# of serial builds (deterministic) at ef_search 40 against an unquantized
# index on the same data:
# - 24 dimensions, 20,000 rows around 50 centres in [0, 1)^24 (2.8 from the
#   origin, 0.4 from their neighbours; the data of 005_hnsw_parallel.pl),
#   L2, inner product and cosine.  About the origin L2 gave 0.848 and
#   cosine 0.817 against 0.997 and 0.980 unquantized; centred 0.985 and
#   0.939.  Held to unquantized - 0.05 (inner product, 0.866 about the
#   origin against 0.904 unquantized, and 0.888 centred, only to that
#   too).  One graph's random levels move these by a few hundredths: with
#   the levels drawn before 9976a6b, L2 0.857 / 0.962 / 0.973 and cosine
#   0.825 / 0.965 / 0.976 (origin / centred / unquantized).
# - 24 dimensions, 10,000 rows scaled by 0.1 to 9.7 in 7 steps (the data of
#   hnsw_iterative_filter.sql), 700 queries, 100 at each scale, L2: per
#   scale, held to unquantized - 0.05.  About the plain mean the smallest
#   scale gave 0.251 against 0.999 (and the next 0.918 against 0.974);
#   the build keeps the origin here.
# - The sample is read through the index's expression and predicate: an
#   expression index ((embedding::halfvec(24))) and a partial one (half
#   the clusters) reach the same recall on what they index.
# - An index built on an empty table has no centre: rows inserted later
#   are coded about the origin, and hnsw_check finds every code as its heap
#   row's value makes it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('centre');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_buffers = 128MB
autovacuum = off
max_parallel_maintenance_workers = 0
jit = off
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.21);
	CREATE TABLE centres AS
	SELECT c, ARRAY(SELECT random()::real FROM generate_series(1, 24) WHERE c >= 0) AS x
	FROM generate_series(0, 49) c;
	CREATE FUNCTION point(i int) RETURNS vector LANGUAGE sql AS $$
		SELECT ARRAY(SELECT x[d] + (random() - 0.5) * 0.2 FROM generate_series(1, 24) d)::real[]::vector
		FROM centres WHERE c = i % 50 $$;
	CREATE TABLE items (id int PRIMARY KEY, embedding vector(24));
	INSERT INTO items SELECT i, point(i) FROM generate_series(1, 20000) i;
	CREATE TABLE queries (id int PRIMARY KEY, embedding vector(24));
	INSERT INTO queries SELECT i, point(i * 7) FROM generate_series(1, 100) i;

	SELECT setseed(0.42);
	CREATE TABLE scaled (id int PRIMARY KEY, embedding vector(24));
	INSERT INTO scaled
	SELECT i, ARRAY(SELECT ((random() - 0.3) * (0.1 + (i % 7) * 1.6))::real
	                FROM generate_series(1, 24) WHERE i > 0)::vector
	FROM generate_series(1, 10000) i;
	CREATE TABLE scaled_queries (id int PRIMARY KEY, embedding vector(24));
	INSERT INTO scaled_queries
	SELECT i, ARRAY(SELECT ((random() - 0.3) * (0.1 + (i % 7) * 1.6))::real
	                FROM generate_series(1, 24) WHERE i > 0)::vector
	FROM generate_series(1, 700) i;
	ANALYZE;
});

# the exact 10 nearest of every query of queries in table under operator
# op, into a new table truth_name
sub truth
{
	my ($name, $table, $queries, $op) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $name AS SELECT q.id, ARRAY(SELECT t.id FROM $table t
			ORDER BY (t.embedding $op q.embedding) + 0 LIMIT 10) AS ids
		FROM $queries q;
	});
}

# recall@10 at ef_search 40 of the index scan of table under op against
# truth, grouped by group (an SQL expression of the query's id q.id;
# the result is "group|recall" lines), each row a 4-decimal recall;
# expr is what the index indexes (default: embedding), where a filter
# keeps the rows a partial index holds
sub recall
{
	my ($table, $queries, $truth, $op, $group, $expr, $where) = @_;
	$expr //= 't.embedding';
	$where //= 'true';
	my $cast = $expr =~ /halfvec/ ? '::halfvec(24)' : '';
	my $out = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = 40;
		SELECT $group, round(avg((SELECT count(*) FROM unnest(ARRAY(
			SELECT t.id FROM $table t WHERE $where
			ORDER BY $expr $op q.embedding$cast LIMIT 10)) a
			WHERE a = ANY(e.ids)) / 10.0), 4)
		FROM $queries q JOIN $truth e USING (id) GROUP BY 1 ORDER BY 1;
	});
	my %r = map { split /\|/ } split /\n/, $out;
	return \%r;
}

# the index scans the table (not a sequential scan) ordered by expr (default
# embedding) under op, with the filter where (default none)
sub uses_index
{
	my ($table, $op, $index, $expr, $where) = @_;
	$expr //= 'embedding';
	my $filter = defined $where ? "WHERE $where" : '';
	my $point = "'[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]'";
	$point .= '::halfvec(24)' if $expr =~ /halfvec/;
	my $plan = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM $table $filter ORDER BY $expr $op $point LIMIT 10;
	});
	like($plan, qr/Index Scan using $index/, "$table under $op scans $index");
}

# no problem found by hnsw_check on index; under inner product (ip true)
# no problem but unreachable elements: rows that are no query's nearest
# under inner product can stay unreachable (README, "hnsw": inner
# product), 51 here in an unquantized index as in a quantized one, with
# codes about the origin or the centre
sub check_clean
{
	my ($index, $what, $ip) = @_;
	my $filter = $ip ? "WHERE problem <> 'unreachable'" : '';
	is($node->safe_psql('postgres', "SELECT count(*) FROM hnsw_check('$index') $filter"),
		'0', "hnsw_check finds nothing wrong in $what")
	  or diag($node->safe_psql('postgres', "SELECT * FROM hnsw_check('$index') LIMIT 5"));
}

# 1. clustered rows far from the origin, three metrics
my %opclass = ('<->' => 'vector_l2_ops', '<#>' => 'vector_ip_ops', '<=>' => 'vector_cosine_ops');
my %truth_name = ('<->' => 'truth_l2', '<#>' => 'truth_ip', '<=>' => 'truth_cos');
for my $op ('<->', '<#>', '<=>')
{
	truth($truth_name{$op}, 'items', 'queries', $op);
	my %r;
	for my $q ('none', 'rabitq')
	{
		$node->safe_psql('postgres', qq{
			CREATE INDEX idx ON items USING hnsw (embedding $opclass{$op}) WITH (quantization = '$q');
		});
		uses_index('items', $op, 'idx') if $q eq 'rabitq';
		check_clean('idx', "the $q $opclass{$op} index", $op eq '<#>') if $q eq 'rabitq';
		$r{$q} = recall('items', 'queries', $truth_name{$op}, $op, "'all'")->{all};
		$node->safe_psql('postgres', 'DROP INDEX idx');
	}
	cmp_ok($r{rabitq}, '>=', $r{none} - 0.05,
		"$opclass{$op}, clustered rows: quantized recall\@10 $r{rabitq} within 0.05 of unquantized $r{none}");
}

# 2. rows of seven scales, queries of every scale
truth('truth_scaled', 'scaled', 'scaled_queries', '<->');
my %scaled;
for my $q ('none', 'rabitq')
{
	$node->safe_psql('postgres', qq{
		CREATE INDEX sidx ON scaled USING hnsw (embedding vector_l2_ops) WITH (quantization = '$q');
	});
	$scaled{$q} = recall('scaled', 'scaled_queries', 'truth_scaled', '<->', 'q.id % 7');
	$node->safe_psql('postgres', 'DROP INDEX sidx');
}
for my $s (0 .. 6)
{
	my $scale = 0.1 + $s * 1.6;
	cmp_ok($scaled{rabitq}{$s}, '>=', $scaled{none}{$s} - 0.05,
		"rows of scale $scale: quantized recall\@10 $scaled{rabitq}{$s} within 0.05 of unquantized $scaled{none}{$s}");
}

# 3. through an expression, and under a predicate
$node->safe_psql('postgres', q{
	CREATE INDEX hidx ON items USING hnsw ((embedding::halfvec(24)) halfvec_l2_ops) WITH (quantization = 'rabitq');
});
uses_index('items', '<->', 'hidx', 'embedding::halfvec(24)');
check_clean('hidx', 'the expression index');
my $expr = recall('items', 'queries', 'truth_l2', '<->', "'all'", 't.embedding::halfvec(24)')->{all};
$node->safe_psql('postgres', 'DROP INDEX hidx');
$node->safe_psql('postgres', q{
	CREATE INDEX lidx ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = 'none');
});
my $plain = recall('items', 'queries', 'truth_l2', '<->', "'all'")->{all};
$node->safe_psql('postgres', 'DROP INDEX lidx');
cmp_ok($expr, '>=', $plain - 0.04,
	"the expression index's quantized recall\@10 $expr within 0.04 of unquantized $plain");

$node->safe_psql('postgres', q{
	CREATE TABLE truth_half AS SELECT q.id, ARRAY(SELECT t.id FROM items t WHERE t.id % 50 < 25
		ORDER BY (t.embedding <-> q.embedding) + 0 LIMIT 10) AS ids
	FROM queries q WHERE q.id * 7 % 50 < 25;
});
my %partial;
for my $q ('none', 'rabitq')
{
	$node->safe_psql('postgres', qq{
		CREATE INDEX pidx ON items USING hnsw (embedding vector_l2_ops) WITH (quantization = '$q')
		WHERE id % 50 < 25;
	});
	uses_index('items', '<->', 'pidx', undef, 'id % 50 < 25');
	check_clean('pidx', 'the partial quantized index') if $q eq 'rabitq';
	$partial{$q} = recall('items', 'queries', 'truth_half', '<->', "'all'", undef, 't.id % 50 < 25')->{all};
	$node->safe_psql('postgres', 'DROP INDEX pidx');
}
cmp_ok($partial{rabitq}, '>=', $partial{none} - 0.04,
	"the partial index's quantized recall\@10 $partial{rabitq} within 0.04 of unquantized $partial{none}");

# 4. built empty: no centre, codes about the origin
$node->safe_psql('postgres', q{
	CREATE TABLE later (id int PRIMARY KEY, embedding vector(24));
	CREATE INDEX later_idx ON later USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq');
	INSERT INTO later SELECT * FROM items WHERE id <= 5000;
});
check_clean('later_idx', 'the index built empty, after inserts');
$node->safe_psql('postgres', q{
	CREATE TABLE truth_later AS SELECT q.id, ARRAY(SELECT t.id FROM later t
		ORDER BY (t.embedding <-> q.embedding) + 0 LIMIT 10) AS ids
	FROM queries q;
});
my $later = recall('later', 'queries', 'truth_later', '<->', "'all'")->{all};
cmp_ok($later, '>=', 0.75, "the index built empty answers (recall\@10 $later, about the origin)");

# 5. churn: a centred index through deletes, VACUUM, re-inserts and exact
# duplicates, then a filter that keeps one cluster (2 % of the rows) under
# an iterative scan.  This once left 51+ elements unreachable and filtered
# scans 0.2 rows of 10: VACUUM's relink could not link a cut-off cluster
# (026_hnsw_relink.pl), which these codes' repair left behind.
$node->safe_psql('postgres', q{
	CREATE TABLE churn AS SELECT * FROM items;
	CREATE INDEX churn_idx ON churn USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq');
	DELETE FROM churn WHERE id % 3 = 0;
	VACUUM churn;
});
check_clean('churn_idx', 'the centred index after deleting a third and VACUUM');
$node->safe_psql('postgres', q{
	INSERT INTO churn SELECT * FROM items WHERE id % 3 = 0;
	INSERT INTO churn SELECT id + 100000, embedding FROM items WHERE id <= 2000;
	VACUUM churn;
});
check_clean('churn_idx', 'the centred index after re-inserts, duplicates and VACUUM');
my ($filled, $frecall) = split /\|/, $node->safe_psql('postgres', q{
	CREATE TABLE churn_kth AS SELECT q.id, (SELECT max(d) FROM (SELECT (t.embedding <-> q.embedding) + 0 AS d
		FROM churn t WHERE t.id % 50 = 7 ORDER BY 1 LIMIT 10) s) AS kth FROM queries q;
	SET enable_seqscan = off; SET hnsw.ef_search = 40; SET hnsw.iterative_scan = relaxed_order;
	SELECT min(n), round(avg(good) / 10.0, 4) FROM queries q JOIN churn_kth e USING (id),
		LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE s.d <= e.kth + 1e-6 * abs(e.kth)) AS good
			FROM (SELECT t.embedding <-> q.embedding AS d FROM churn t WHERE t.id % 50 = 7
				ORDER BY t.embedding <-> q.embedding LIMIT 10) s) x;
});
# recall 0.915-1.0 in five runs (the inserts draw their levels unseeded);
# 0.02 when the relink was broken
is($filled, '10', 'filtered iterative scans of the centred index fill LIMIT 10 after churn');
cmp_ok($frecall, '>=', 0.8, "and find the nearest rows of the filter (recall\@10 $frecall)");

$node->stop;
done_testing();
