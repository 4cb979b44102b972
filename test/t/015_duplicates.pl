# Duplicate-heavy data, for each type (vector, halfvec, sparsevec, bit) and
# both access methods, and for vector and halfvec also hnsw and ivfflat with
# quantization = 'rabitq' and ivfflat with quantization = 'pq' (held to
# their access method's threshold): 4,000 random rows plus 30 of them copied 100 times
# (7,000 rows).  Identical vectors must not fragment an hnsw graph or hide
# rows from a scan:
# - recall@10 >= 0.99 at hnsw.ef_search 40 (ivfflat: lists 20, probes 10)
#   for 40 queries taken from the table (20 of the copied rows, 20 others);
#   a returned row is right when its distance is at most the exact 10th
#   distance (ties count as right), missing rows are wrong;
# - the check function finds nothing right after the build, after inserting
#   more copies (10 more copies of each of 10 copied rows, and 10 new rows
#   copied 50 times), and after deleting half the copies of 15 rows and
#   VACUUM; recall is measured after each step too;
# - with 20 identical rows, a query for that very vector with LIMIT 20
#   returns all 20 rows, at hnsw.ef_search 1 and 40 (ivfflat: every list
#   probed).
# These ask more than pgvector 0.8.6 gives on the same data (vector_l2_ops
# after the build: hnsw recall@10 0.7375, and 10 of the 20 identical rows at
# ef_search 1; ivfflat at probes 10: 1.0000).  ivfflat's threshold is 0.96:
# vectorann's ivfflat reaches 0.9825 here (bit 0.9675), below pgvector's,
# because its k-means partitions duplicate-heavy data less evenly (every
# query's copies are found; the misses are neighbours in lists not probed).
# That gap is known and open; the threshold catches rows lost to duplicates.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('duplicates');
$node->init;
# jit off: with enable_seqscan off every plan costs past JIT's thresholds,
# and compiling each query takes longer than running it
$node->append_conf('postgresql.conf', "shared_buffers = 128MB\nautovacuum = off\njit = off\n");
$node->start;

my $k = 10;
my %threshold = (hnsw => 0.99, ivfflat => 0.96);
my $lists = 20;
my $probes = 10;

# src: 4,000 random 16-dimension rows with 40 % zeros (so that sparsevec is
# sparse) and 64-bit strings, then rows 1-30 copied 100 times each
# (ids 4001-7000); more: what the insert step adds (ids 10001-10600)
$node->safe_psql('postgres', q{
	CREATE EXTENSION vectorann;
	SELECT setseed(0.27);
	CREATE TABLE src AS
	SELECT i, ARRAY(SELECT (CASE WHEN random() < 0.4 THEN 0 ELSE random() END)::real
	                FROM generate_series(1, 16) d WHERE i > 0) AS a,
	       (SELECT string_agg(CASE WHEN random() < 0.5 THEN '1' ELSE '0' END, '')
	        FROM generate_series(1, 64) g WHERE i > 0)::bit(64) AS b
	FROM generate_series(1, 4000) i;
	INSERT INTO src SELECT 4000 + (i - 1) * 100 + r, a, b FROM src, generate_series(1, 100) r WHERE i <= 30;
	CREATE TABLE more AS
	SELECT 10000 + (i - 1) * 10 + r AS i, a, b FROM src, generate_series(1, 10) r WHERE i <= 10;
	INSERT INTO more
	SELECT 10100 + (j - 1) * 50 + r, a, b FROM generate_series(1, 50) r,
	(SELECT j, ARRAY(SELECT random()::real FROM generate_series(1, 16) d WHERE j > 0) AS a,
	        (SELECT string_agg(CASE WHEN random() < 0.5 THEN '1' ELSE '0' END, '')
	         FROM generate_series(1, 64) g WHERE j > 0)::bit(64) AS b
	 FROM generate_series(1, 10) j) n;
	-- queries: 20 of the copied rows, 20 rows never copied
	CREATE TABLE qids AS SELECT i FROM generate_series(1, 20) i
	UNION ALL SELECT 100 + 97 * g FROM generate_series(1, 20) g;
});
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT a), count(DISTINCT b) FROM src'),
	'7000|4000|4000', '7,000 rows, 4,000 distinct');

# type, column type, value of a row of src/more, operator, opclass (hnsw,
# ivfflat: undef when it has none), the vector of the 20 identical rows
my @types = (
	[ 'vector',    'vector(16)',     'a::vector(16)',                   '<->', 'vector_l2_ops',    'vector_l2_ops',  'vector(3)',    q{'[1,1,1]'} ],
	[ 'halfvec',   'halfvec(16)',    'a::vector(16)::halfvec(16)',      '<->', 'halfvec_l2_ops',   'halfvec_l2_ops', 'halfvec(3)',   q{'[1,1,1]'} ],
	[ 'sparsevec', 'sparsevec(16)',  'a::vector(16)::sparsevec(16)',    '<->', 'sparsevec_l2_ops', undef,            'sparsevec(3)', q{'{1:1,2:1,3:1}/3'} ],
	[ 'bit',       'bit(64)',        'b',                               '<~>', 'bit_hamming_ops',  'bit_hamming_ops', 'bit(8)',      q{B'10110001'} ],
);


my $settings = "SET enable_seqscan = off; SET hnsw.ef_search = 40; SET ivfflat.probes = $probes;";

# recall@10 of the queries (rows of t) against exact search on t
sub recall
{
	my ($op, $what, $am) = @_;
	my $threshold = $threshold{ $am =~ s/-.*//r };
	my $plan = $node->safe_psql('postgres', qq{
		$settings
		EXPLAIN (COSTS OFF) SELECT i FROM t ORDER BY v $op (SELECT v FROM t LIMIT 1) LIMIT $k});
	like($plan, qr/Index Scan using t_idx/, "$what: the index answers");
	my $r = $node->safe_psql('postgres', qq{
		DROP TABLE IF EXISTS q;
		CREATE TABLE q AS SELECT i, v FROM t WHERE i IN (SELECT i FROM qids);
		$settings
		SELECT round(avg(a.hits / $k.0), 4)
		FROM q,
		LATERAL (SELECT max(d) AS kth FROM
			(SELECT x.v $op q.v AS d FROM t x ORDER BY (x.v $op q.v) + 0 LIMIT $k) s) e,
		LATERAL (SELECT count(*) FILTER (WHERE d <= e.kth + 1e-6 * (1 + abs(e.kth))) AS hits FROM
			(SELECT x.v $op q.v AS d FROM t x ORDER BY x.v $op q.v LIMIT $k) s) a});
	$r = (split /\n/, $r)[-1];
	cmp_ok($r, '>=', $threshold, "$what: recall\@$k $r >= $threshold");
	diag("$what: recall\@$k = $r");
}

sub check_clean
{
	my ($am, $what) = @_;
	$am =~ s/-.*//;
	my $n = $node->safe_psql('postgres', "SELECT count(*) FROM ${am}_check('t_idx')");
	is($n, '0', "$what: ${am}_check finds nothing")
	  or diag($node->safe_psql('postgres', "SELECT * FROM ${am}_check('t_idx') LIMIT 10"));
}

foreach my $ty (@types)
{
	my ($type, $coltype, $expr, $op, $hnsw_opclass, $ivf_opclass, $small_type, $same) = @$ty;
	foreach my $variant (qw(hnsw hnsw-rabitq ivfflat ivfflat-rabitq ivfflat-pq))
	{
		my ($am, $quantization) = split /-/, $variant;
		my $opclass = $am eq 'hnsw' ? $hnsw_opclass : $ivf_opclass;
		next unless defined $opclass;
		next if defined $quantization && $type ne 'vector' && $type ne 'halfvec';
		my $what = "$variant $opclass";
		my @options = $am eq 'ivfflat' ? ("lists = $lists") : ();
		push @options, "quantization = '$quantization'" if defined $quantization;
		my $with = @options ? 'WITH (' . join(', ', @options) . ')' : '';
		my @same_options = $am eq 'ivfflat' ? ('lists = 4') : ();
		push @same_options, "quantization = '$quantization'" if defined $quantization;
		my $same_with = @same_options ? 'WITH (' . join(', ', @same_options) . ')' : '';

		$node->safe_psql('postgres', qq{
			DROP TABLE IF EXISTS t;
			CREATE TABLE t (i int, v $coltype);
			INSERT INTO t SELECT i, $expr FROM src;
			CREATE INDEX t_idx ON t USING $am (v $opclass) $with;
		});
		check_clean($am, "$what, after the build");
		recall($op, "$what, after the build", $variant);

		$node->safe_psql('postgres', "INSERT INTO t SELECT i, $expr FROM more");
		check_clean($am, "$what, after inserting more copies");
		recall($op, "$what, after inserting more copies", $variant);

		# half the copies of rows 1-15 (and 5 of the inserted ones)
		$node->safe_psql('postgres', q{
			DELETE FROM t WHERE (i BETWEEN 4001 AND 5500 OR i > 10000) AND i % 2 = 0});
		$node->safe_psql('postgres', 'VACUUM t');
		check_clean($am, "$what, after deleting copies and VACUUM");
		recall($op, "$what, after deleting copies and VACUUM", $variant);

		# 20 identical rows: a query for that vector asking for 20 gets 20
		$node->safe_psql('postgres', qq{
			DROP TABLE IF EXISTS same;
			CREATE TABLE same (i int, v $small_type);
			INSERT INTO same SELECT i, $same FROM generate_series(1, 20) i;
			CREATE INDEX same_idx ON same USING $am (v $opclass) $same_with;
		});
		my @settings = $am eq 'hnsw'
		  ? ('SET hnsw.ef_search = 1', 'SET hnsw.ef_search = 40')
		  : ('SET ivfflat.probes = 4');
		foreach my $set (@settings)
		{
			my $plan = $node->safe_psql('postgres', qq{
				SET enable_seqscan = off; $set;
				EXPLAIN (COSTS OFF) SELECT * FROM same ORDER BY v $op $same LIMIT 20});
			like($plan, qr/Index Scan using same_idx/, "$what, 20 identical rows, $set: the index answers");
			is($node->safe_psql('postgres', qq{
				SET enable_seqscan = off; $set;
				SELECT count(*) FROM (SELECT * FROM same ORDER BY v $op $same LIMIT 20) t}),
				'20', "$what, 20 identical rows, $set: a query for that vector returns all 20");
		}
	}
}

$node->stop;
done_testing();
