# ivfflat with quantization = 'pq' (product-quantized lists, codebooks on
# index pages): recall@10 of every operator class PQ serves (L2, inner
# product, cosine of vector and halfvec) on rows with norms from 0.1 to 10;
# a streaming standby replays the build (codebook pages included), inserts,
# deletes and VACUUM, and answers the same kNN queries as the primary (which
# ivfflat_check finds sound); then
# the primary crashes while four backends insert, and after WAL replay
# ivfflat_check (codebook chain, lists, codes against heap rows) finds no
# problem and every committed row is in the index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::Bin;
use VaCrash qw(crash_during_inserts);

my $dim = 48;
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_buffers = 64MB\nrestart_after_crash = off\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION vectorann');
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# rows in 12 clusters with norms from 0.1 to 10, deterministic for a seed
sub insert_rows
{
	my ($seed, $from, $to) = @_;
	$primary->safe_psql('postgres', qq{
		SELECT setseed($seed);
		INSERT INTO items
		SELECT i, ARRAY(SELECT ((sin(i % 12 * 7 + j) + (random() - 0.5) * 0.6) * (0.1 + (i % 7) * 1.6))::real
		                FROM generate_series(1, $dim) j WHERE i > 0)::vector
		FROM generate_series($from, $to) i;
	});
}

$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector($dim));
	CREATE TABLE queries (id int, embedding vector($dim));
	SELECT setseed(0.77);
	INSERT INTO queries SELECT i, ARRAY(SELECT (sin(i % 12 * 7 + j) + (random() - 0.5))::real
	                                    FROM generate_series(1, $dim) j WHERE i > 0)::vector
	FROM generate_series(1, 30) i;
});
insert_rows(0.1, 1, 4000);

# recall@10 per operator class: a returned row counts when it is no
# farther than the exact 10th nearest (ties); 6 of 20 lists probed (where
# unquantized lists find every exact top 10), 100 best estimates re-ranked.
# pq_m = 24 (subvectors of 2): the widely varying norms make coarser codes
# miss (pq_m = 12: 21 of 30 queries exact)
my %ops = (
	vector_l2_ops => [ 'embedding', '<->', '' ],
	vector_ip_ops => [ 'embedding', '<#>', '' ],
	vector_cosine_ops => [ 'embedding', '<=>', '' ],
	halfvec_l2_ops => [ "(embedding::halfvec($dim))", '<->', "::halfvec($dim)" ],
	halfvec_ip_ops => [ "(embedding::halfvec($dim))", '<#>', "::halfvec($dim)" ],
	halfvec_cosine_ops => [ "(embedding::halfvec($dim))", '<=>', "::halfvec($dim)" ],
);
foreach my $opc (sort keys %ops)
{
	my ($col, $op, $cast) = @{ $ops{$opc} };
	$primary->safe_psql('postgres', qq{
		CREATE INDEX rec_idx ON items USING ivfflat ($col $opc)
		WITH (lists = 20, quantization = 'pq', pq_m = 24);
	});
	my $recall = $primary->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET ivfflat.probes = 6;
		SET ivfflat.rerank_candidates = 100;
		SELECT round(avg(hits) / 10, 3) FROM (
			SELECT (SELECT count(*) FROM (SELECT $col $op q.embedding$cast AS d FROM items i
			                              ORDER BY $col $op q.embedding$cast LIMIT 10) s
			        WHERE d <= (SELECT max(d) FROM (SELECT ($col $op q.embedding$cast) + 0 AS d FROM items i
			                                         ORDER BY 1 LIMIT 10) e) + 1e-6) AS hits
			FROM queries q) r});
	cmp_ok($recall, '>=', 0.95, "$opc: recall\@10 $recall");
	is($primary->safe_psql('postgres', q{SELECT count(*) FROM ivfflat_check('rec_idx')}), '0',
		"$opc: ivfflat_check finds nothing");
	$primary->safe_psql('postgres', 'DROP INDEX rec_idx');
}

# many lists: 700 lists' L2 terms (24 kB each) would push the centroids out
# of the scan's 16 MB cache, so each probed list's table is made from q - c
# instead (codec_pq.c); the answers are as good
$primary->safe_psql('postgres', q{
	CREATE INDEX many_idx ON items USING ivfflat (embedding vector_l2_ops)
	WITH (lists = 700, quantization = 'pq', pq_m = 24);
});
my $many = $primary->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET ivfflat.probes = 700;
	SET ivfflat.rerank_candidates = 100;
	SELECT count(*) FROM queries q
	WHERE ARRAY(SELECT id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) =
	      ARRAY(SELECT id FROM items i ORDER BY (i.embedding <-> q.embedding) + 0 LIMIT 10)});
cmp_ok($many, '>=', 27, "700 lists (tables from q - c): $many of 30 queries exact");
is($primary->safe_psql('postgres', q{SELECT count(*) FROM ivfflat_check('many_idx')}), '0',
	'700 lists: ivfflat_check finds nothing');
$primary->safe_psql('postgres', 'DROP INDEX many_idx');

$primary->safe_psql('postgres', q{
	CREATE INDEX items_idx ON items USING ivfflat (embedding vector_l2_ops)
	WITH (lists = 20, quantization = 'pq', pq_m = 24);
});

# for each query: ids and distances of the 10 nearest rows by the index,
# listed by distance and then id
my $knn = q{
	SET enable_seqscan = off;
	SET ivfflat.probes = 20;
	SET ivfflat.rerank_candidates = 200;
	SELECT q.id, ARRAY(SELECT s.id || ':' || round(s.d::numeric, 5) FROM (
	                   SELECT i.id, i.embedding <-> q.embedding AS d
	                   FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10) s ORDER BY s.d, s.id)
	FROM queries q ORDER BY q.id;
};
(my $exact = $knn) =~ s/SET enable_seqscan = off;/SET enable_indexscan = off; SET enable_bitmapscan = off;/;

sub same_on_standby
{
	my ($stage) = @_;
	$primary->wait_for_catchup($standby);
	my $on_primary = $primary->safe_psql('postgres', $knn);
	is($standby->safe_psql('postgres', $knn), $on_primary, "$stage: the standby answers as the primary");
	my @p = split /\n/, $on_primary;
	my @e = split /\n/, $primary->safe_psql('postgres', $exact);
	my $same = grep { $p[$_] eq $e[$_] } 0 .. $#e;
	cmp_ok($same, '>=', 27, "$stage: $same of 30 answers are the exact top 10 with exact distances");
	# (ivfflat_check takes a ShareLock, which a standby cannot)
	is($primary->safe_psql('postgres', "SELECT count(*) FROM ivfflat_check('items_idx')"), '0',
		"$stage: ivfflat_check finds nothing")
	  or diag($primary->safe_psql('postgres', "SELECT * FROM ivfflat_check('items_idx') LIMIT 5"));
}

same_on_standby('after the build');
insert_rows(0.2, 4001, 5500);
same_on_standby('after inserts');
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 4 = 0; VACUUM items;');
same_on_standby('after deletes and VACUUM');

# crash while four backends insert
$primary->safe_psql('postgres', 'CREATE SEQUENCE ids START 100000; CHECKPOINT;');
my $before = $primary->safe_psql('postgres', 'SELECT count(*) FROM items');
my $rows = crash_during_inserts($primary, $before + 1500,
	[ "INSERT INTO items SELECT nextval('ids'), ARRAY(SELECT (random() - 0.3)::real FROM generate_series(1, $dim))::vector;", 1 ]);
is($primary->safe_psql('postgres', q{SELECT count(*) FROM ivfflat_check('items_idx')}),
	'0', 'ivfflat_check finds nothing after recovery')
  or diag($primary->safe_psql('postgres', q{SELECT * FROM ivfflat_check('items_idx') LIMIT 10}));
# every committed row is in the index: a scan of all lists returns them all
is($primary->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET ivfflat.probes = 20;
	SET work_mem = '64MB';
	SELECT count(*) FROM items WHERE id NOT IN (
		SELECT id FROM items ORDER BY embedding <-> (SELECT embedding FROM queries WHERE id = 1) LIMIT 1000000);
}), '0', 'every committed row is found by a scan of all lists');
same_on_standby('after the crash');

$standby->stop;
$primary->stop;
done_testing();
