-- vectorann 0.1.0 -> 0.2.0
--
-- 0.2.0 adds quantized hnsw indexes (WITH (quantization = 'rabitq', bits =
-- N)) and the hnsw.rerank_candidates setting; neither needs a catalog
-- object.  Indexes built by 0.1.0 keep working unchanged: their metapages
-- read as quantization = 'none'.  The new SQL objects are the quantizers'
-- self checks.
\echo Use "ALTER EXTENSION vectorann UPDATE TO '0.2.0'" to load this file. \quit

-- RaBitQ quantizer self check (src/quant/rabitq_check.c): with a quantizer of
-- dims dimensions, bits bits and rotation seed, n pseudo-random vectors and n
-- queries: the query-code estimator's error relative to |o| |q| (mean, max,
-- signed mean) and correlation with the exact inner products over the n^2
-- pairs, the code-code estimator's mean error, the mean relative decoding
-- error, the rotation's worst norm and inverse errors and its spread of basis
-- vectors (sqrt(D) * largest coordinate).  Deterministic; n in 1..1000.
CREATE FUNCTION vectorann_rabitq_check(dims integer, bits integer, seed bigint, n integer,
	OUT ip_mean_error float8, OUT ip_max_error float8, OUT ip_bias float8,
	OUT ip_correlation float8, OUT code_ip_mean_error float8,
	OUT decode_error float8, OUT rotation_norm_error float8,
	OUT rotation_inverse_error float8, OUT rotation_spread float8)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Product-quantization self check (src/quant/pq_check.c): trains a quantizer
-- of m subspaces (m must divide dims) on n pseudo-random clustered vectors, of
-- which the first distinct are drawn and the rest repeat them, and reports
-- the mean reconstruction error of training and fresh vectors relative to the
-- data's spread, the worst relative errors of the ADC tables (L2, inner
-- product, and the IVFADC residual L2 expansion) against float8 arithmetic,
-- the share of the exact 10 nearest found among the 50 nearest by ADC, and
-- the fewest distinct centroids in a subspace.  Deterministic;
-- n in 0..20000 with n * dims <= 4000000.
CREATE FUNCTION vectorann_pq_check(dims integer, m integer, n integer, "distinct" integer,
	seed bigint,
	OUT train_error float8, OUT test_error float8, OUT adc_l2_error float8,
	OUT adc_ip_error float8, OUT residual_l2_error float8, OUT recall float8,
	OUT codewords integer)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
