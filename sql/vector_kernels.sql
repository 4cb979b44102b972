-- vector_kernels: every SIMD distance kernel this build has and this CPU
-- runs is compared with its scalar reference on pseudo-random inputs of
-- lengths 1, 7, 15, 16, 17, 1023 and 16000 (bit kernels: as many bytes;
-- the RaBitQ code kernels: padded lengths 64, 832, 3072 and 16000; the PQ
-- kernels: tables of m * dsub = 1, 15, 768 and 784 coordinates, scans of
-- codes of m = 1, 3 and 49 bytes, argmin of 256 entries; the RaBitQ level
-- search on the RaBitQ lengths; the nearest-centroid panels on 1, 7 and 33
-- rows of 1, 17 and 128 dimensions against 1 and 3 panels, reported as
-- their product, and their keys and counts on up to 1000 keys, reported as
-- 1000).
-- Tolerance: float4-accumulating kernels within 1e-5 and float8 ones within
-- 1e-12 of the sum of the absolute values of the terms; bit kernels and the
-- binary16 conversions (portable C against F16C), the RaBitQ code
-- kernels' integers, the PQ scans' sums and argmins, the RaBitQ level
-- search's sums and the nearest-centroid keys and counts exactly.
-- Which kernels exist depends on the CPU, so the test first says which ran:
-- the kernel set in use and the number of kernels checked per instruction
-- set.  The expected outputs are one per kind of x86-64 CPU: with AVX-512F,
-- VPOPCNTDQ, BW and VNNI (vector_kernels.out; Ice Lake, Zen 4 and later),
-- with AVX-512F (and BW) but neither VPOPCNTDQ nor VNNI (_1; Skylake-X),
-- with AVX2, FMA, F16C and POPCNT (_2), none of them, or not x86-64 (_3),
-- and with AVX-512F, BW and VNNI but not VPOPCNTDQ (_4; Cascade Lake).  A
-- check that ran fewer kernels than the CPU's kernel set implies matches
-- none of them.  (make emulated-kernel-check, test/kernels/simd_emulated.c,
-- checks every SIMD kernel on any CPU.)
SELECT vectorann_kernels() AS kernel_set,
       coalesce((SELECT string_agg(isa || ':' || kernels, ' ' ORDER BY isa)
                 FROM (SELECT substring(kernel FROM '[a-z0-9]+$') AS isa,
                              count(DISTINCT kernel) AS kernels
                       FROM vectorann_kernel_check() GROUP BY 1) k), 'none') AS kernels_checked;
SELECT count(*) FILTER (WHERE NOT ok) AS failures FROM vectorann_kernel_check();
SELECT kernel, n FROM vectorann_kernel_check() WHERE NOT ok;
-- every kernel that ran was tried on all seven lengths (the RaBitQ code
-- kernels on their four padded lengths, each at every bits 1..8, and the
-- RaBitQ level search on the same lengths; the PQ kernels on their shapes;
-- the nearest-centroid panels on rows x dimensions x panels, their keys
-- once)
SELECT count(*) AS kernels_without_all_lengths
FROM (SELECT kernel FROM vectorann_kernel_check() GROUP BY kernel
      HAVING array_agg(n ORDER BY n) <>
             CASE WHEN kernel LIKE 'rabitq%' THEN '{64,832,3072,16000}'::int[]
                  WHEN kernel LIKE 'pq_table%' OR kernel LIKE 'pq_encode%' THEN '{1,15,768,784}'
                  WHEN kernel LIKE 'pq_scan%' THEN '{1,3,49}'
                  WHEN kernel LIKE 'pq_argmin%' THEN '{256}'
                  WHEN kernel LIKE 'dot_panels%' THEN '{1,3,7,17,21,33,51,99,119,128,357,384,561,896,1683,2688,4224,12672}'
                  WHEN kernel LIKE 'panel_keys%' THEN '{1000}'
                  ELSE '{1,7,15,16,17,1023,16000}' END) s;
-- the kernel set is named (its value depends on the CPU)
SELECT vectorann_kernels() ~ '^(scalar|[a-z0-9]+(\+[a-z0-9]+)*)$' AS named;
-- the kernel set is what the CPU offers, so a build whose detection finds
-- less (or more) than the CPU has fails here rather than matching another
-- CPU's expected output: on Linux the first processor's flags in
-- /proc/cpuinfo say whether it has AVX-512F and AVX2 with FMA; elsewhere
-- (no /proc/cpuinfo) this is not checked.  Run the suite without
-- VECTORANN_KERNELS, which caps the set on purpose.
SELECT coalesce((f ~ '\mavx512f\M') = (vectorann_kernels() ~ 'avx512f') AND
                (f ~ '\mavx2\M' AND f ~ '\mfma\M') = (vectorann_kernels() ~ 'avx512f|avx2'),
                true) AS kernel_set_is_the_cpus
FROM (SELECT (regexp_match(pg_read_file('/proc/cpuinfo', 0, 1000000, true),
                           'flags\s*:\s*([^\n]*)'))[1] AS f) c;

-- the SQL functions agree whichever kernels run: exact results on inputs
-- long enough for every SIMD body and tail
SELECT vector_l2_squared_distance(a, b) AS l2sq, inner_product(a, b) AS ip, l1_distance(a, b) AS l1
FROM (SELECT array_agg(i % 13 - 6)::vector AS a, array_agg(i % 5)::vector AS b
      FROM generate_series(1, 1023) i) t;
SELECT halfvec_l2_squared_distance(a, b) AS l2sq, inner_product(a, b) AS ip, l1_distance(a, b) AS l1
FROM (SELECT array_agg(i % 13 - 6)::halfvec AS a, array_agg(i % 5)::halfvec AS b
      FROM generate_series(1, 1023) i) t;
SELECT sum((i % 13 - 6 - i % 5) ^ 2) AS l2sq, sum((i % 13 - 6) * (i % 5)) AS ip,
       sum(abs(i % 13 - 6 - i % 5)) AS l1
FROM generate_series(1, 1023) i;
SELECT a <~> b AS hamming, a <%> b AS jaccard
FROM (SELECT string_agg(CASE WHEN i % 3 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(1023) AS a,
             string_agg(CASE WHEN i % 2 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(1023) AS b
      FROM generate_series(1, 1023) i) t;
