# Concurrency: several backends insert and query an hnsw index while others
# delete rows and VACUUM; afterwards hnsw_check finds nothing and recall@10
# against exact search stays high.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $dim = 16;
my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vectorann;
	CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector($dim));
	SELECT setseed(0.25);
	INSERT INTO items (embedding)
	SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector
	FROM generate_series(1, 3000) i;
	CREATE INDEX items_idx ON items USING hnsw (embedding);
});

my $dir = $PostgreSQL::Test::Utils::tmp_check;
my %scripts = (
	'insert.sql' => "INSERT INTO items (embedding) SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector;\n",
	'query.sql' => "SET enable_seqscan = off;\nSELECT id FROM items ORDER BY embedding <-> (SELECT ARRAY(SELECT random()::real FROM generate_series(1, $dim))::vector) LIMIT 10;\n",
	'delete.sql' => "DELETE FROM items WHERE id = (SELECT (random() * 6000)::int);\n",
	'vacuum.sql' => "VACUUM items;\n");
while (my ($name, $text) = each %scripts)
{
	open(my $fh, '>', "$dir/$name") or die;
	print $fh $text;
	close $fh;
}

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($out1, $err1, $out2, $err2) = ('', '', '', '');
# four clients insert, query and delete; one runs VACUUM meanwhile
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '400',
	  '-f', "$dir/insert.sql\@5", '-f', "$dir/query.sql\@4", '-f', "$dir/delete.sql\@1", @conn ],
	'>', \$out1, '2>', \$err1);
my $vacuum = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-t', '8', '-f', "$dir/vacuum.sql", @conn ],
	'>', \$out2, '2>', \$err2);
ok($load->finish, 'insert/query/delete load ran without errors') or diag($err1);
ok($vacuum->finish, 'concurrent VACUUMs ran without errors') or diag($err2);
like($out1, qr{actually processed: 1600/1600}, 'every load transaction ran');
like($out2, qr{actually processed: 8/8}, 'every VACUUM ran');

is($node->safe_psql('postgres',
	q{SELECT count(*) FROM hnsw_check('items_idx') WHERE problem <> 'unreachable'}),
	'0', 'no structural violation after the concurrent load')
  or diag($node->safe_psql('postgres', q{SELECT * FROM hnsw_check('items_idx')}));

$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hnsw_check('items_idx')}),
	'0', 'hnsw_check finds nothing after a final VACUUM');

# recall@10 of 50 queries against exact search
my $recall = $node->safe_psql('postgres', qq{
	SELECT setseed(0.75);
	CREATE TEMP TABLE q AS
	SELECT i AS qid, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)::vector AS v
	FROM generate_series(1, 50) i;
	SET enable_seqscan = off;
	SELECT avg((SELECT count(*) FROM unnest(
		ARRAY(SELECT id FROM items ORDER BY embedding <-> q.v LIMIT 10)) a
		WHERE a = ANY(ARRAY(SELECT id FROM items ORDER BY (embedding <-> q.v) + 0 LIMIT 10))) / 10.0)
	FROM q;
});
$recall = (split /\n/, $recall)[-1];
cmp_ok($recall, '>=', 0.95, "recall\@10 after the concurrent load is $recall");

my $missing = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM items i1
	WHERE (SELECT i2.id FROM items i2 ORDER BY i2.embedding <-> i1.embedding LIMIT 1) <> i1.id;
});
is((split /\n/, $missing)[-1], '0', 'every live row is found by an exact-match kNN query');

$node->stop;
done_testing();
