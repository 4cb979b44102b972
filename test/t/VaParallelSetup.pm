# Shared setup of the parallel-build TAP tests (005 hnsw, 013 ivfflat): a
# primary that allows streaming and runs up to 2 parallel maintenance
# workers, a streaming standby from its base backup, and seeded clustered
# data: 50 random centres in 24 dimensions, 20,000 rows "items" around them
# (plus one NULL) in a table with parallel_workers = 2, 100 "queries" from the
# same distribution, and the function point(i) that draws one more point.
package VaParallelSetup;
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Exporter 'import';
our @EXPORT_OK = qw(parallel_cluster);

# parallel_cluster(PREFIX, SEED, NOISE): returns ($primary, $standby), both
# started, the data loaded and ANALYZEd on the primary.  NOISE is the width
# of the uniform noise added to each coordinate of a centre.
sub parallel_cluster
{
	my ($prefix, $seed, $noise) = @_;
	my $dim = 24;
	my $node = PostgreSQL::Test::Cluster->new("${prefix}primary");
	$node->init(allows_streaming => 1);
	$node->append_conf('postgresql.conf', q{
shared_buffers = 128MB
autovacuum = off
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_maintenance_workers = 2
});
	$node->start;
	$node->backup('b');
	my $standby = PostgreSQL::Test::Cluster->new("${prefix}standby");
	$standby->init_from_backup($node, 'b', has_streaming => 1);
	$standby->start;

	$node->safe_psql('postgres', qq{
		CREATE EXTENSION vectorann;
		SELECT setseed($seed);
		CREATE TABLE centres AS
		SELECT c, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE c >= 0) AS x
		FROM generate_series(0, 49) c;
		CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim)) WITH (parallel_workers = 2);
		CREATE TABLE queries (id int PRIMARY KEY, embedding vector($dim));
		CREATE FUNCTION point(i int) RETURNS vector LANGUAGE sql AS \$\$
			SELECT ARRAY(SELECT x[d] + (random() - 0.5) * $noise FROM generate_series(1, $dim) d)::real[]::vector
			FROM centres WHERE c = i % 50 \$\$;
		INSERT INTO items SELECT i, point(i) FROM generate_series(1, 20000) i;
		INSERT INTO items VALUES (0, NULL);
		INSERT INTO queries SELECT i, point(i * 7) FROM generate_series(1, 100) i;
		ANALYZE items;
	});
	return ($node, $standby);
}

1;
