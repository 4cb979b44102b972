# RaBitQ codes do not depend on the kernels a server picked: the rotation
# and the query's quantization run in a baseline and an AVX2 version
# (src/quant/rabitq.c), which must give the same bits.  Indexes built by a
# server forced to the portable code (VECTORANN_KERNELS=scalar, read when
# the library loads) are checked by a server with the CPU's own kernels,
# and the other way round: hnsw_check and ivfflat_check encode a sample of
# heap rows again and compare the codes byte for byte.  The kNN answers
# of both servers are the same too.  On a CPU without AVX2 both servers
# run the baseline and the test still passes, checking less.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 100;    # padded to 128: the fold between Hadamard blocks runs too
my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vectorann');

sub restart_with
{
	my ($kernels) = @_;
	if (defined $kernels)
	{
		$ENV{VECTORANN_KERNELS} = $kernels;
	}
	else
	{
		delete $ENV{VECTORANN_KERNELS};
	}
	$node->restart;
	return $node->safe_psql('postgres', 'SELECT vectorann_kernels()');
}

# rows with norms from 0.1 to 10
$node->safe_psql('postgres', qq{
	SELECT setseed(0.41);
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	INSERT INTO items
	SELECT i, ARRAY(SELECT ((random() - 0.4) * (0.1 + (i % 9) * 1.2))::real
	                FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 1500) i;
	CREATE TABLE queries (id int, embedding vector($dim));
	INSERT INTO queries SELECT i, ARRAY(SELECT (random() - 0.4)::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 20) i;
});

my $knn = q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 60;
	SELECT string_agg(ids, ';' ORDER BY q.id) FROM queries q,
	LATERAL (SELECT string_agg(i.id::text, ',') AS ids FROM
	         (SELECT id FROM %s ORDER BY embedding <-> q.embedding LIMIT 10) i) s;
};

for my $order (['scalar', undef], [undef, 'scalar'])
{
	my ($build_with, $check_with) = @$order;
	my $built = restart_with($build_with);
	my $label = "built with kernels $built";
	$node->safe_psql('postgres', q{
		DROP TABLE IF EXISTS h4, h3, iv;
		CREATE TABLE h4 AS SELECT * FROM items;
		CREATE TABLE h3 AS SELECT * FROM items;
		CREATE TABLE iv AS SELECT * FROM items;
		CREATE INDEX h4_idx ON h4 USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq', bits = 4);
		CREATE INDEX h3_idx ON h3 USING hnsw (embedding vector_l2_ops) WITH (quantization = 'rabitq', bits = 3);
		CREATE INDEX iv_idx ON iv USING ivfflat (embedding vector_l2_ops) WITH (lists = 20, quantization = 'rabitq');
	});
	my %before = map { $_ => $node->safe_psql('postgres', sprintf($knn, $_)) } qw(h4 h3);
	my $checked = restart_with($check_with);
	$label .= ", checked with kernels $checked";
	for my $index (qw(h4_idx h3_idx))
	{
		is($node->safe_psql('postgres', "SELECT count(*) FROM hnsw_check('$index')"), '0',
			"$label: hnsw_check finds every code of $index equal")
		  or diag($node->safe_psql('postgres', "SELECT * FROM hnsw_check('$index') LIMIT 5"));
	}
	is($node->safe_psql('postgres', "SELECT count(*) FROM ivfflat_check('iv_idx')"), '0',
		"$label: ivfflat_check finds every code of iv_idx equal")
	  or diag($node->safe_psql('postgres', "SELECT * FROM ivfflat_check('iv_idx') LIMIT 5"));
	for my $table (qw(h4 h3))
	{
		is($node->safe_psql('postgres', sprintf($knn, $table)), $before{$table},
			"$label: the kNN answers of $table are the same");
	}
}

done_testing();
