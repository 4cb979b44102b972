-- ivfflat on bit: bit_hamming_ops and bit_jaccard_ops build (k-means with
-- bit-string centroids), return the exact order when all lists are probed,
-- find the nearest cluster with one probe on clustered data, find rows
-- inserted after the build, serve only their own operator, survive
-- VACUUM, and pass amvalidate.
SET client_min_messages = warning;
SELECT setseed(0.29);

-- rbits(n, p): n random bits, each set with probability p.
CREATE FUNCTION rbits(n int, p float8) RETURNS bit varying LANGUAGE sql VOLATILE AS $$
  SELECT string_agg(CASE WHEN random() < p THEN '1' ELSE '0' END, '')::bit varying
  FROM generate_series(1, n) $$;

-- Hamming data: 8 random 128-bit prototypes; each row flips every bit of its
-- prototype with probability 0.1.  Rows 1..800; the queries are 16 more
-- members.
CREATE TABLE bproto (c int, p bit(128));
INSERT INTO bproto SELECT c, rbits(128, 0.5) FROM generate_series(0, 7) c;
CREATE TABLE bh (id int PRIMARY KEY, v bit(128));
INSERT INTO bh SELECT i, p # rbits(128, 0.1) FROM generate_series(1, 800) i JOIN bproto ON c = i % 8;
CREATE TABLE bhq (qid int, q bit(128));
INSERT INTO bhq SELECT i, p # rbits(128, 0.1) FROM generate_series(1, 16) i JOIN bproto ON c = i % 8;

SET enable_seqscan = off;
CREATE INDEX bh_ham ON bh USING ivfflat (v bit_hamming_ops) WITH (lists = 8);
EXPLAIN (COSTS OFF) SELECT id FROM bh ORDER BY v <~> (SELECT q FROM bhq WHERE qid = 1) LIMIT 10;
-- every list probed: the index's top 10 has the exact distances
SET ivfflat.probes = 8;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <~> bhq.q FROM bh ORDER BY v <~> bhq.q LIMIT 10) =
         ARRAY(SELECT v <~> bhq.q FROM bh ORDER BY (v <~> bhq.q) + 0 LIMIT 10)) AS exact
FROM bhq;
-- one probe: majority centroids separate the 8 clusters, so the nearest
-- list holds the query's whole neighbourhood, and only its own cluster
SET ivfflat.probes = 1;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <~> bhq.q FROM bh ORDER BY v <~> bhq.q LIMIT 10) =
         ARRAY(SELECT v <~> bhq.q FROM bh ORDER BY (v <~> bhq.q) + 0 LIMIT 10)) AS exact,
       count(*) FILTER (WHERE
         (SELECT count(*) FROM (SELECT id FROM bh ORDER BY v <~> bhq.q LIMIT 800) s
          WHERE id % 8 = bhq.qid % 8) >= 90 AND
         (SELECT count(*) FROM (SELECT id FROM bh ORDER BY v <~> bhq.q LIMIT 800) s) <= 110) AS one_cluster
FROM bhq;
-- a distance the index does not serve is not planned on it
EXPLAIN (COSTS OFF) SELECT id FROM bh ORDER BY v <%> B'1' LIMIT 10;
-- rows inserted after the build, and VACUUM after deletes
INSERT INTO bh SELECT id + 1000, v FROM bh WHERE id <= 100;
DELETE FROM bh WHERE id BETWEEN 1 AND 100;
VACUUM bh;
SELECT count(*) AS moved,
       count(*) FILTER (WHERE (SELECT b2.v <~> b1.v FROM bh b2 ORDER BY b2.v <~> b1.v LIMIT 1) = 0) AS found
FROM bh b1 WHERE id > 1000;
-- a query of another length is refused
SELECT id FROM bh ORDER BY v <~> B'101' LIMIT 1;
DROP INDEX bh_ham;

-- Jaccard data: sparse fingerprints, 8 prototypes of about 24 set bits
-- out of 512; a row keeps each prototype bit with probability 0.4 and adds
-- random bits with probability 4/512.  A per-bit majority would make every
-- centroid all zeros.
CREATE TABLE jproto (c int, p bit(512));
INSERT INTO jproto SELECT c, rbits(512, 24.0 / 512) FROM generate_series(0, 7) c;
CREATE TABLE bj (id int PRIMARY KEY, v bit(512));
INSERT INTO bj SELECT i, (p & rbits(512, 0.4)) | rbits(512, 4.0 / 512)
FROM generate_series(1, 800) i JOIN jproto ON c = i % 8;
CREATE TABLE bjq (qid int, q bit(512));
INSERT INTO bjq SELECT i, (p & rbits(512, 0.4)) | rbits(512, 4.0 / 512)
FROM generate_series(1, 16) i JOIN jproto ON c = i % 8;

CREATE INDEX bj_jac ON bj USING ivfflat (v bit_jaccard_ops) WITH (lists = 8);
EXPLAIN (COSTS OFF) SELECT id FROM bj ORDER BY v <%> (SELECT q FROM bjq WHERE qid = 1) LIMIT 10;
SET ivfflat.probes = 8;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT round((v <%> bjq.q)::numeric, 6) FROM bj ORDER BY v <%> bjq.q LIMIT 10) =
         ARRAY(SELECT round((v <%> bjq.q)::numeric, 6) FROM bj ORDER BY (v <%> bjq.q) + 0 LIMIT 10)) AS exact
FROM bjq;
-- one probe returns the rows of one list only: with the most-common-bits
-- centroids each list is one cluster (all-zero majority centroids would
-- put every row in one list)
SET ivfflat.probes = 1;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE own >= 90 AND returned <= 110) AS one_cluster
FROM (SELECT (SELECT count(*) FROM (SELECT id FROM bj ORDER BY v <%> bjq.q LIMIT 800) s) AS returned,
             (SELECT count(*) FROM (SELECT id FROM bj ORDER BY v <%> bjq.q LIMIT 800) s
              WHERE id % 8 = bjq.qid % 8) AS own
      FROM bjq) t;
DROP INDEX bj_jac;

-- bit has no default ivfflat operator class
CREATE INDEX ON bh USING ivfflat (v);
-- an index on an empty table, then the first insert makes its list
CREATE TABLE be (v bit(16));
CREATE INDEX ON be USING ivfflat (v bit_hamming_ops) WITH (lists = 4);
INSERT INTO be VALUES (B'1010101010101010'), (B'1111000011110000'), (NULL);
SELECT v, v <~> B'1010101010101011' AS d FROM be ORDER BY v <~> B'1010101010101011' LIMIT 3;

SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'ivfflat' AND opcintype = 'bit'::regtype ORDER BY opcname;

DROP TABLE bproto, bh, bhq, jproto, bj, bjq, be;
DROP FUNCTION rbits(int, float8);
