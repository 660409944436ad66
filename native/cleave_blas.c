/*
 * cleave_blas: the native half of cleave's `cpu-blas` backend.
 *
 * A small Node-API (C) addon over OpenBLAS. It exposes exactly what the TypeScript side needs:
 *   sgemm        one C = alpha * op(A) * op(B) + beta * C (cblas_sgemm, row-major)
 *   sgemmBatched many products of one shape; the batch offsets come from JS (batch broadcasting)
 *   epilogue     in-place bias add (+ activation) on a row-major [rows, cols] block (fused matmul)
 *   adam         one fused Adam(W) update of a parameter (into a new buffer) and its two moments (in place)
 *   binary       add/sub/mul/div with broadcasting (strides from JS), float32 like tfjs's cpu kernels
 *   reduceSum    sum (or mean) over one contiguous block of axes, accumulated in double like tfjs's cpu Sum
 *   unary        Relu, Step, Square with tfjs's cpu semantics
 *   maskedLogSumExp  row and column log-sum-exp pieces of a square matrix in one pass each, skipping
 *                the entries (i, j), i != j, of one group (the same-image mask of the per-pair scores)
 *   blockLogSumExp   the scorer's row and column log-sum-exps of a scaled block: one expf per entry
 *   info / setNumThreads  OpenBLAS's configuration and thread count
 *
 * Every typed array is bounds-checked here before it is handed to BLAS, so a wrong shape from JS is a
 * thrown TypeError/RangeError, never memory corruption.
 *
 * Built by scripts/build-native.mjs (`npm run build:native`), linked against -lopenblas.
 */
#define NAPI_VERSION 8
#if defined(__has_include) && __has_include(<cblas-openblas.h>)
#include <cblas-openblas.h> /* Debian/Ubuntu libopenblas-dev */
#else
#include <cblas.h>
#endif
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, NULL, "cleave_blas: N-API call failed: " #call); \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

#define FAIL(kind, ...)                                  \
  do {                                                   \
    char msg_[256];                                      \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);            \
    napi_throw_##kind(env, NULL, msg_);                  \
    return NULL;                                         \
  } while (0)

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  return argc == want;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  return get_typed(env, v, napi_float32_array, (void **)data, len);
}

static int get_f64(napi_env env, napi_value v, double **data, size_t *len) {
  return get_typed(env, v, napi_float64_array, (void **)data, len);
}

static int is_null(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  return t == napi_null || t == napi_undefined;
}

static int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_num(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value v, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

/* Elements a row-major operand needs: `rows` rows of `cols` used columns, rows `ld` apart. */
static size_t span(int64_t rows, int64_t cols, int64_t ld) {
  if (rows <= 0 || cols <= 0) return 0;
  return (size_t)((rows - 1) * ld + cols);
}

/* sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!get_args(env, info, 13, argv)) FAIL(type_error, "sgemm: expected 13 arguments");
  int ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  double alpha, beta;
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_bool(env, argv[0], &ta) || !get_bool(env, argv[1], &tb) || !get_int(env, argv[2], &M) ||
      !get_int(env, argv[3], &N) || !get_int(env, argv[4], &K) || !get_num(env, argv[5], &alpha) ||
      !get_f32(env, argv[6], &A, &la) || !get_int(env, argv[7], &lda) || !get_f32(env, argv[8], &B, &lb) ||
      !get_int(env, argv[9], &ldb) || !get_num(env, argv[10], &beta) || !get_f32(env, argv[11], &C, &lc) ||
      !get_int(env, argv[12], &ldc))
    FAIL(type_error, "sgemm: bad argument types");
  if (M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
    FAIL(range_error, "sgemm: bad sizes M=%lld N=%lld K=%lld", (long long)M, (long long)N, (long long)K);
  /* op(A) is M x K; stored A is (ta ? K x M : M x K). */
  size_t needA = ta ? span(K, M, lda) : span(M, K, lda);
  size_t needB = tb ? span(N, K, ldb) : span(K, N, ldb);
  size_t needC = span(M, N, ldc);
  if (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N || la < needA || lb < needB || lc < needC)
    FAIL(range_error, "sgemm: operand too small for M=%lld N=%lld K=%lld", (long long)M, (long long)N,
         (long long)K);
  if (M == 0 || N == 0) return NULL;
  if (K == 0) {
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0.0f : (float)(beta * C[i * ldc + j]);
    return NULL;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
              (blasint)N, (blasint)K, (float)alpha, A, (blasint)(lda > 0 ? lda : 1), B,
              (blasint)(ldb > 0 ? ldb : 1), (float)beta, C, (blasint)(ldc > 0 ? ldc : 1));
  return NULL;
}

/*
 * sgemmBatched(transA, transB, M, N, K, A, aOffsets, B, bOffsets, C)
 * C[i] = op(A @ aOffsets[i]) * op(B @ bOffsets[i]), C[i] contiguous M x N, batch = aOffsets.length.
 * A and B matrices are packed (lda = cols of the stored matrix).
 */
static napi_value SgemmBatched(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!get_args(env, info, 10, argv)) FAIL(type_error, "sgemmBatched: expected 10 arguments");
  int ta, tb;
  int64_t M, N, K;
  float *A, *B, *C;
  double *ao, *bo;
  size_t la, lb, lc, nao, nbo;
  if (!get_bool(env, argv[0], &ta) || !get_bool(env, argv[1], &tb) || !get_int(env, argv[2], &M) ||
      !get_int(env, argv[3], &N) || !get_int(env, argv[4], &K) || !get_f32(env, argv[5], &A, &la) ||
      !get_f64(env, argv[6], &ao, &nao) || !get_f32(env, argv[7], &B, &lb) ||
      !get_f64(env, argv[8], &bo, &nbo) || !get_f32(env, argv[9], &C, &lc))
    FAIL(type_error, "sgemmBatched: bad argument types");
  if (M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || nao != nbo)
    FAIL(range_error, "sgemmBatched: bad sizes");
  size_t sa = (size_t)(M * K), sb = (size_t)(K * N), sc = (size_t)(M * N);
  if (lc < sc * nao) FAIL(range_error, "sgemmBatched: output too small");
  for (size_t i = 0; i < nao; i++) {
    if (ao[i] < 0 || bo[i] < 0 || (size_t)ao[i] + sa > la || (size_t)bo[i] + sb > lb)
      FAIL(range_error, "sgemmBatched: batch %zu offset out of range", i);
  }
  if (sc == 0) return NULL;
  if (K == 0) {
    memset(C, 0, sizeof(float) * sc * nao);
    return NULL;
  }
  const blasint lda = (blasint)(ta ? M : K), ldb = (blasint)(tb ? K : N);
  for (size_t i = 0; i < nao; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, 1.0f, A + (size_t)ao[i], lda, B + (size_t)bo[i], ldb, 0.0f,
                C + i * sc, (blasint)N);
  }
  return NULL;
}

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_ELU = 3, ACT_LEAKY = 4, ACT_SIGMOID = 5, ACT_PRELU = 6 };

/*
 * epilogue(C, cols, bias | null, activation, leakyAlpha, preluAlpha | null)
 * In place on C viewed as [rows, cols]: C += bias (length cols, or 1), then the activation.
 * preluAlpha has length cols or 1. The arithmetic follows tfjs's cpu kernels (add first, then act).
 */
static napi_value Epilogue(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) FAIL(type_error, "epilogue: expected 6 arguments");
  float *C, *bias = NULL, *pa = NULL;
  size_t lc, lbias = 0, lpa = 0;
  int64_t cols, act;
  double leaky;
  if (!get_f32(env, argv[0], &C, &lc) || !get_int(env, argv[1], &cols) || !get_int(env, argv[3], &act) ||
      !get_num(env, argv[4], &leaky))
    FAIL(type_error, "epilogue: bad argument types");
  if (!is_null(env, argv[2]) && !get_f32(env, argv[2], &bias, &lbias)) FAIL(type_error, "epilogue: bad bias");
  if (!is_null(env, argv[5]) && !get_f32(env, argv[5], &pa, &lpa)) FAIL(type_error, "epilogue: bad alpha");
  if (cols <= 0 || lc % (size_t)cols != 0) FAIL(range_error, "epilogue: bad cols");
  if (bias && lbias != 1 && lbias != (size_t)cols) FAIL(range_error, "epilogue: bias length");
  if (act == ACT_PRELU && (!pa || (lpa != 1 && lpa != (size_t)cols))) FAIL(range_error, "epilogue: prelu alpha");
  const size_t rows = lc / (size_t)cols, n = (size_t)cols;
  for (size_t r = 0; r < rows; r++) {
    float *row = C + r * n;
    if (bias) {
      if (lbias == 1) {
        const float b0 = bias[0];
        for (size_t j = 0; j < n; j++) row[j] += b0;
      } else {
        for (size_t j = 0; j < n; j++) row[j] += bias[j];
      }
    }
    switch (act) {
      case ACT_LINEAR:
        break;
      case ACT_RELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
        break;
      case ACT_RELU6:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? 0.0f : (row[j] > 6.0f ? 6.0f : row[j]);
        break;
      case ACT_ELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] >= 0.0f ? row[j] : (float)(exp((double)row[j]) - 1.0);
        break;
      case ACT_LEAKY:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.0f ? (float)(leaky * (double)row[j]) : row[j];
        break;
      case ACT_SIGMOID:
        for (size_t j = 0; j < n; j++) row[j] = (float)(1.0 / (1.0 + exp(-(double)row[j])));
        break;
      case ACT_PRELU:
        for (size_t j = 0; j < n; j++) {
          const float a = pa[lpa == 1 ? 0 : j];
          row[j] = row[j] < 0.0f ? a * row[j] : row[j];
        }
        break;
      default:
        FAIL(range_error, "epilogue: unknown activation %lld", (long long)act);
    }
  }
  return NULL;
}

/* Hot loops get an AVX2 clone next to the baseline one (picked at load time); without FMA
   contraction both give the same IEEE float32 results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

/* Adam's constants, already float32 as tfjs makes them. */
typedef struct {
  float b1, one_minus_b1, b2, one_minus_b2, c1, c2, eps, neg_lr, decay;
} adam_consts;

/* Update moment i in place and return -lr * m_hat / (sqrt(v_hat) + eps), in tfjs's op order. */
static inline float adam_delta(float *m, float *v, float g, const adam_consts *k) {
  const float mi = k->b1 * *m + k->one_minus_b1 * g;
  const float vi = k->b2 * *v + k->one_minus_b2 * (g * g);
  *m = mi;
  *v = vi;
  return ((mi / k->c1) / (sqrtf(vi / k->c2) + k->eps)) * k->neg_lr;
}

/* out may be p itself (same index read before written); m, v, g are distinct arrays. */
HOT static void adam_loop(const float *p, float *o, float *restrict m, float *restrict v, const float *restrict g,
                          size_t n, adam_consts k) {
  if (k.decay == 0.0f) {
#pragma GCC ivdep
    for (size_t i = 0; i < n; i++) o[i] = adam_delta(m + i, v + i, g[i], &k) + p[i];
  } else {
#pragma GCC ivdep
    for (size_t i = 0; i < n; i++) o[i] = (adam_delta(m + i, v + i, g[i], &k) + p[i]) - k.decay * p[i];
  }
}

/*
 * adam(param, out, m, v, grad, lr, beta1, beta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon, weightDecay)
 * Elementwise, in float32 and in the order of tfjs's AdamOptimizer; m and v in place, the new
 * parameter into `out` (which may be `param` itself):
 *   m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g*g
 *   out = p - lr * (m/(1-beta1^t)) / (sqrt(v/(1-beta2^t)) + eps)  - lr*wd*p (decoupled, AdamW; 0 = off)
 */
static napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!get_args(env, info, 12, argv)) FAIL(type_error, "adam: expected 12 arguments");
  float *p, *o, *m, *v, *g;
  size_t lp, lo, lm, lv, lg;
  double lr, b1, b2, c1, c2, eps, wd;
  if (!get_f32(env, argv[0], &p, &lp) || !get_f32(env, argv[1], &o, &lo) || !get_f32(env, argv[2], &m, &lm) ||
      !get_f32(env, argv[3], &v, &lv) || !get_f32(env, argv[4], &g, &lg) || !get_num(env, argv[5], &lr) ||
      !get_num(env, argv[6], &b1) || !get_num(env, argv[7], &b2) || !get_num(env, argv[8], &c1) ||
      !get_num(env, argv[9], &c2) || !get_num(env, argv[10], &eps) || !get_num(env, argv[11], &wd))
    FAIL(type_error, "adam: bad argument types");
  if (lo != lp || lm != lp || lv != lp || lg != lp) FAIL(range_error, "adam: length mismatch");
  /* the scalars exactly as tfjs makes them: float32 tensors of the double values */
  const adam_consts k = {(float)b1,         (float)(1.0 - b1), (float)b2,
                         (float)(1.0 - b2), (float)c1,         (float)c2,
                         (float)eps,        (float)(-lr),      wd == 0.0 ? 0.0f : (float)(lr * wd)};
  adam_loop(p, o, m, v, g, lp, k);
  return NULL;
}


/* One row of out = a op b; sa, sb are the operands' element strides (0 = broadcast). */
#define BINARY_ROW(NAME, EXPR)                                                                                    \
  HOT static void NAME(const float *restrict a, int64_t sa, const float *restrict b, int64_t sb,                  \
                       float *restrict o, int64_t n) {                                                            \
    if (sa == 1 && sb == 1) {                                                                                     \
      for (int64_t j = 0; j < n; j++) { const float x = a[j], y = b[j]; o[j] = (EXPR); }                          \
    } else if (sa == 1 && sb == 0) {                                                                              \
      const float y = b[0];                                                                                       \
      for (int64_t j = 0; j < n; j++) { const float x = a[j]; o[j] = (EXPR); }                                    \
    } else if (sa == 0 && sb == 1) {                                                                              \
      const float x = a[0];                                                                                       \
      for (int64_t j = 0; j < n; j++) { const float y = b[j]; o[j] = (EXPR); }                                    \
    } else {                                                                                                      \
      for (int64_t j = 0; j < n; j++) { const float x = a[j * sa], y = b[j * sb]; o[j] = (EXPR); }                \
    }                                                                                                             \
  }
BINARY_ROW(row_add, x + y)
BINARY_ROW(row_sub, x - y)
BINARY_ROW(row_mul, x * y)
BINARY_ROW(row_div, x / y)

typedef void (*row_fn)(const float *, int64_t, const float *, int64_t, float *, int64_t);

/*
 * binary(op, a, b, out, dims, aStrides, bStrides)
 * out (packed, shape dims) = a op b, where a and b are read with the given element strides per dim
 * (0 = broadcast). JS collapses the shapes first, so dims is short and the last dim is the long one.
 */
static napi_value Binary(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv)) FAIL(type_error, "binary: expected 7 arguments");
  int64_t op;
  float *a, *b, *out;
  double *dims, *as, *bs;
  size_t la, lb, lo, nd, nas, nbs;
  if (!get_int(env, argv[0], &op) || !get_f32(env, argv[1], &a, &la) || !get_f32(env, argv[2], &b, &lb) ||
      !get_f32(env, argv[3], &out, &lo) || !get_f64(env, argv[4], &dims, &nd) || !get_f64(env, argv[5], &as, &nas) ||
      !get_f64(env, argv[6], &bs, &nbs))
    FAIL(type_error, "binary: bad argument types");
  if (nd == 0 || nd > 16 || nas != nd || nbs != nd) FAIL(range_error, "binary: bad dims");
  int64_t d[16], sA[16], sB[16], idx[16];
  size_t total = 1, maxA = 0, maxB = 0;
  for (size_t i = 0; i < nd; i++) {
    d[i] = (int64_t)dims[i];
    sA[i] = (int64_t)as[i];
    sB[i] = (int64_t)bs[i];
    idx[i] = 0;
    if (d[i] <= 0 || sA[i] < 0 || sB[i] < 0) FAIL(range_error, "binary: bad dims");
    total *= (size_t)d[i];
    maxA += (size_t)((d[i] - 1) * sA[i]);
    maxB += (size_t)((d[i] - 1) * sB[i]);
  }
  if (lo != total || maxA >= la || maxB >= lb) FAIL(range_error, "binary: operand sizes do not match the dims");
  const row_fn rows_by_op[] = {row_add, row_sub, row_mul, row_div};
  if (op < 0 || op > 3) FAIL(range_error, "binary: unknown op %lld", (long long)op);
  const row_fn row = rows_by_op[op];
  const int64_t len = d[nd - 1], sa = sA[nd - 1], sb = sB[nd - 1];
  const size_t rows = total / (size_t)len;
  size_t offA = 0, offB = 0;
  for (size_t r = 0; r < rows; r++) {
    row(a + offA, sa, b + offB, sb, out + r * (size_t)len, len);
    /* odometer over the outer dims */
    for (int64_t k = (int64_t)nd - 2; k >= 0; k--) {
      idx[k]++;
      offA += (size_t)sA[k];
      offB += (size_t)sB[k];
      if (idx[k] < d[k]) break;
      offA -= (size_t)(sA[k] * d[k]);
      offB -= (size_t)(sB[k] * d[k]);
      idx[k] = 0;
    }
  }
  return NULL;
}


/* One unary op over a whole array, with tfjs's cpu semantics (Relu = max(0, x): NaN stays, -0 -> +0;
   Step = NaN ? NaN : x > 0 ? 1 : alpha; Square = x * x; Exp = exp in double rounded to float32, which
   is what Math.exp on a float32 value stored into a Float32Array gives). */
#define UNARY_LOOP(NAME, EXPR)                                                                   \
  HOT static void NAME(const float *restrict x, float *restrict o, size_t n, float alpha) {      \
    (void)alpha;                                                                                 \
    for (size_t i = 0; i < n; i++) { const float v = x[i]; o[i] = (EXPR); }                      \
  }
UNARY_LOOP(unary_relu, (v > 0.0f || v != v) ? v : 0.0f)
UNARY_LOOP(unary_step, v != v ? v : (v > 0.0f ? 1.0f : alpha))
UNARY_LOOP(unary_square, v * v)
UNARY_LOOP(unary_exp, (float)exp((double)v))

/* unary(op, x, out, alpha): op 0 = Relu, 1 = Step(alpha), 2 = Square, 3 = Exp. */
static napi_value Unary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) FAIL(type_error, "unary: expected 4 arguments");
  int64_t op;
  float *x, *out;
  size_t lx, lo;
  double alpha;
  if (!get_int(env, argv[0], &op) || !get_f32(env, argv[1], &x, &lx) || !get_f32(env, argv[2], &out, &lo) ||
      !get_num(env, argv[3], &alpha))
    FAIL(type_error, "unary: bad argument types");
  if (lx != lo) FAIL(range_error, "unary: sizes do not match");
  void (*const ops[])(const float *, float *, size_t, float) = {unary_relu, unary_step, unary_square, unary_exp};
  if (op < 0 || op > 3) FAIL(range_error, "unary: unknown op %lld", (long long)op);
  ops[op](x, out, lx, (float)alpha);
  return NULL;
}

/*
 * reduceSum(x, out, outer, reduce, inner, divisor): out[o, i] = sum_r x[o, r, i], accumulated in double
 * like tfjs's cpu Sum kernel; with divisor > 0 each term is first divided by it in float32, which is
 * tfjs's cpu Mean (x / n, then the sum).
 */
static napi_value ReduceSum(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) FAIL(type_error, "reduceSum: expected 6 arguments");
  float *x, *out;
  size_t lx, lo;
  int64_t outer, reduce, inner;
  double divisor;
  if (!get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &out, &lo) || !get_int(env, argv[2], &outer) ||
      !get_int(env, argv[3], &reduce) || !get_int(env, argv[4], &inner) || !get_num(env, argv[5], &divisor))
    FAIL(type_error, "reduceSum: bad argument types");
  if (outer < 0 || reduce < 0 || inner < 0 || lx != (size_t)(outer * reduce * inner) || lo != (size_t)(outer * inner))
    FAIL(range_error, "reduceSum: sizes do not match");
  const int divide = divisor > 0;
  const float d = (float)divisor;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; o++) {
      const float *px = x + o * reduce;
      double s = 0;
      if (divide) {
        for (int64_t r = 0; r < reduce; r++) s += (double)(px[r] / d);
      } else {
        for (int64_t r = 0; r < reduce; r++) s += px[r];
      }
      out[o] = (float)s;
    }
    return NULL;
  }
  double *acc = (double *)calloc((size_t)(inner > 0 ? inner : 1), sizeof(double));
  if (!acc) FAIL(error, "reduceSum: out of memory");
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) acc[i] = 0;
    for (int64_t r = 0; r < reduce; r++) {
      const float *px = x + (o * reduce + r) * inner;
      if (divide) {
        for (int64_t i = 0; i < inner; i++) acc[i] += (double)(px[i] / d);
      } else {
        for (int64_t i = 0; i < inner; i++) acc[i] += px[i];
      }
    }
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = (float)acc[i];
  }
  free(acc);
  return NULL;
}

/*
 * maskedLogSumExp(x, n, groups, rowMax, rowSum, colMax, colSum): for the row-major n x n matrix x, with
 * the entries (i, j), i != j, groups[i] == groups[j] left out (groups may be null: nothing left out),
 *   rowMax[i] = max_j x[i, j],  rowSum[i] = sum_j float(exp(float(x[i, j] - rowMax[i]))),
 * and the same over columns. The sums run in double in index order and are rounded to float32 at the
 * end: exactly tfjs's logSumExp (max, sub, exp, sum) on x with -1e9 added to the left-out entries,
 * whose exp is 0 (the cpu kernels' float32 semantics; Exp as in `unary`). The caller takes the log.
 * NaN propagates through the maxima as in tfjs's cpu Max.
 *
 * Runs on OpenBLAS's thread count: each thread owns a range of rows (their maxima and sums) and a range
 * of columns (theirs, accumulated over the rows in order), so every sum keeps its serial order and the
 * result does not depend on the thread count.
 */
typedef struct {
  const float *x;
  const int32_t *groups;
  int64_t n, lo, hi; /* this thread's rows and columns: [lo, hi) */
  float *rowMax, *rowSum, *colMax, *colSum;
  double *acc; /* n doubles, this thread's columns used */
} lse_task;

static void *lse_run(void *arg) {
  const lse_task *t = (const lse_task *)arg;
  const float *x = t->x;
  const int32_t *groups = t->groups;
  const int64_t n = t->n, lo = t->lo, hi = t->hi;
  for (int64_t i = lo; i < hi; i++) { /* rows: maxima, then sums */
    const float *xi = x + i * n;
    const int32_t gi = groups ? groups[i] : 0;
    float m = xi[i];
    for (int64_t j = 0; j < n; j++) {
      if (groups && j != i && groups[j] == gi) continue;
      const float v = xi[j];
      if (v > m || v != v) m = v;
    }
    double s = 0;
    for (int64_t j = 0; j < n; j++) {
      if (groups && j != i && groups[j] == gi) continue;
      s += (double)(float)exp((double)(float)(xi[j] - m));
    }
    t->rowMax[i] = m;
    t->rowSum[i] = (float)s;
  }
  float *colMax = t->colMax;
  double *acc = t->acc;
  for (int64_t j = lo; j < hi; j++) {
    colMax[j] = x[j * n + j];
    acc[j] = 0;
  }
  for (int64_t i = 0; i < n; i++) { /* columns: maxima over all rows, then sums in row order */
    const float *xi = x + i * n;
    const int32_t gi = groups ? groups[i] : 0;
    for (int64_t j = lo; j < hi; j++) {
      if (groups && j != i && groups[j] == gi) continue;
      const float v = xi[j];
      if (v > colMax[j] || v != v) colMax[j] = v;
    }
  }
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * n;
    const int32_t gi = groups ? groups[i] : 0;
    for (int64_t j = lo; j < hi; j++) {
      if (groups && j != i && groups[j] == gi) continue;
      acc[j] += (double)(float)exp((double)(float)(xi[j] - colMax[j]));
    }
  }
  for (int64_t j = lo; j < hi; j++) t->colSum[j] = (float)acc[j];
  return NULL;
}

static napi_value MaskedLogSumExp(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv)) FAIL(type_error, "maskedLogSumExp: expected 7 arguments");
  float *x, *rowMax, *rowSum, *colMax, *colSum;
  int32_t *groups = NULL;
  size_t lx, lg = 0, lrm, lrs, lcm, lcs;
  int64_t n;
  if (!get_f32(env, argv[0], &x, &lx) || !get_int(env, argv[1], &n) ||
      !(is_null(env, argv[2]) || get_typed(env, argv[2], napi_int32_array, (void **)&groups, &lg)) ||
      !get_f32(env, argv[3], &rowMax, &lrm) || !get_f32(env, argv[4], &rowSum, &lrs) ||
      !get_f32(env, argv[5], &colMax, &lcm) || !get_f32(env, argv[6], &colSum, &lcs))
    FAIL(type_error, "maskedLogSumExp: bad argument types");
  if (n < 1 || lx != (size_t)(n * n) || (groups && lg != (size_t)n) || lrm != (size_t)n || lrs != (size_t)n ||
      lcm != (size_t)n || lcs != (size_t)n)
    FAIL(range_error, "maskedLogSumExp: sizes do not match");
  double *acc = (double *)calloc((size_t)n, sizeof(double));
  if (!acc) FAIL(error, "maskedLogSumExp: out of memory");
  int threads = openblas_get_num_threads();
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  if ((int64_t)threads > n / 256) threads = n >= 512 ? (int)(n / 256) : 1; /* small blocks: one thread */
  lse_task tasks[16];
  pthread_t ids[16];
  int started[16] = {0};
  for (int k = 0; k < threads; k++) {
    tasks[k] = (lse_task){x, groups, n, (n * k) / threads, (n * (k + 1)) / threads, rowMax, rowSum, colMax, colSum, acc};
  }
  for (int k = 1; k < threads; k++) started[k] = pthread_create(&ids[k], NULL, lse_run, &tasks[k]) == 0;
  lse_run(&tasks[0]);
  for (int k = 1; k < threads; k++) {
    if (started[k]) pthread_join(ids[k], NULL);
    else lse_run(&tasks[k]); /* no thread: do its share here */
  }
  free(acc);
  return NULL;
}

/*
 * blockLogSumExp(x, n, scale, groups, rowLse, colLse): for the row-major n x n matrix x (one scoring
 * block's similarities) and scale > 0,
 *   rowLse[i] = log sum_j exp(scale * x[i, j]),  colLse[j] = log sum_i exp(scale * x[i, j]),
 * over the kept entries (groups as in maskedLogSumExp), in double. The per-pair scorer's kernel, where
 * accuracy (not tfjs's op-by-op rounding) is what counts: every entry takes ONE vectorised exp
 * (blse_exp, within 2 ulp of expf), shifted by the block's maximum M, since exp(scale * x - M) stays a
 * normal float while the block's range scale * (max - min) is under 80 (unit-norm similarities at
 * tau >= 0.025); a wider block takes per-row and per-column maxima and two exps per entry. The rows are cut into BLSE_CHUNKS fixed chunks
 * whose column partial sums are added in chunk order, so the result does not depend on the thread
 * count. A NaN or infinite entry makes every output NaN.
 */
#define BLSE_CHUNKS 16

/* The scorer's loops may assume that float operations do not trap (their values are unchanged): that
   lets GCC if-convert the clamps and masks below and vectorise the exp. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

typedef struct {
  const float *x;
  const int32_t *groups;
  int64_t n;
  float scale;
  int twoShifts;   /* 0: one shift for the block (shift); 1: rowShift / colShift */
  float shift;
  float *rowShift; /* n */
  float *colShift; /* n */
  float *colPartMax; /* BLSE_CHUNKS x n (two shifts only) */
  double *rowSum;  /* n */
  double *colPart; /* BLSE_CHUNKS x n */
  float chunkMax[BLSE_CHUNKS], chunkMin[BLSE_CHUNKS];
  int chunkBad[BLSE_CHUNKS];
} blse_block;

typedef void (*blse_pass)(blse_block *, int);

typedef struct {
  blse_block *b;
  blse_pass pass;
  int c0, c1;
} blse_job;

static int64_t blse_row(const blse_block *b, int c) { return (b->n * c) / BLSE_CHUNKS; }

static int blse_left_out(const int32_t *groups, int32_t gi, int64_t i, int64_t j) {
  return groups && j != i && groups[j] == gi;
}

/* range of the chunk's entries (all of them: a bound is all the shift needs) */
static void blse_range(blse_block *b, int c) {
  float hi = -INFINITY, lo = INFINITY;
  int bad = 0;
  for (int64_t i = blse_row(b, c); i < blse_row(b, c + 1); i++) {
    const float *xi = b->x + i * b->n;
    for (int64_t j = 0; j < b->n; j++) {
      const float v = xi[j];
      hi = v > hi ? v : hi;
      lo = v < lo ? v : lo;
      bad |= !isfinite(v);
    }
  }
  b->chunkMax[c] = hi;
  b->chunkMin[c] = lo;
  b->chunkBad[c] = bad;
}

/* two shifts: each row's maximum, and the chunk's per-column maxima, over the kept entries */
static void blse_maxima(blse_block *b, int c) {
  const int64_t n = b->n;
  float *cm = b->colPartMax + (size_t)c * (size_t)n;
  for (int64_t j = 0; j < n; j++) cm[j] = -INFINITY;
  for (int64_t i = blse_row(b, c); i < blse_row(b, c + 1); i++) {
    const float *xi = b->x + i * n;
    const int32_t gi = b->groups ? b->groups[i] : 0;
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++) {
      if (blse_left_out(b->groups, gi, i, j)) continue;
      const float v = b->scale * xi[j];
      m = v > m ? v : m;
      cm[j] = v > cm[j] ? v : cm[j];
    }
    b->rowShift[i] = m;
  }
}

/*
 * exp(x) for x <= 0 (inputs below -87 give exp(-87): still a normal float), in a form the compiler
 * vectorises: x = k ln2 + f with k = round(x / ln2) (Cody-Waite split of ln2), exp(f) by the Cephes
 * degree-7 polynomial on |f| <= ln2/2, times 2^k built in the exponent bits. Within 2 ulp of expf.
 */
static inline float blse_exp(float x) {
  x = x > -87.0f ? x : -87.0f;
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
  const float f = (x - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * f + 1.3981999507e-3f;
  p = p * f + 8.3334519073e-3f;
  p = p * f + 4.1665795894e-2f;
  p = p * f + 1.6666665459e-1f;
  p = p * f + 5.0000001201e-1f;
  p = p * (f * f) + f + 1.0f;
  const int32_t bits = ((int32_t)k + 127) << 23;
  float two;
  memcpy(&two, &bits, sizeof two);
  return p * two;
}

/* sum of a float row in double, four interleaved accumulators */
static double blse_row_sum(const float *e, int64_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    a0 += e[j];
    a1 += e[j + 1];
    a2 += e[j + 2];
    a3 += e[j + 3];
  }
  for (; j < n; j++) a0 += e[j];
  return (a0 + a1) + (a2 + a3);
}

static void blse_sums(blse_block *b, int c) {
  const int64_t n = b->n;
  const float scale = b->scale;
  const int32_t *groups = b->groups;
  double *cp = b->colPart + (size_t)c * (size_t)n;
  float *e = (float *)malloc((size_t)n * sizeof(float));
  float *ec = b->twoShifts ? (float *)malloc((size_t)n * sizeof(float)) : NULL;
  if (!e || (b->twoShifts && !ec)) { /* out of memory: flag the chunk, the caller reports it */
    b->chunkBad[c] = 2;
    free(e);
    free(ec);
    return;
  }
  for (int64_t j = 0; j < n; j++) cp[j] = 0;
  for (int64_t i = blse_row(b, c); i < blse_row(b, c + 1); i++) {
    const float *xi = b->x + i * n;
    const int32_t gi = groups ? groups[i] : 0;
    const float m = b->twoShifts ? b->rowShift[i] : b->shift;
    for (int64_t j = 0; j < n; j++) e[j] = blse_exp(scale * xi[j] - m);
    if (groups)
      for (int64_t j = 0; j < n; j++) e[j] = groups[j] == gi ? 0.0f : e[j];
    if (!b->twoShifts) {
      if (groups) e[i] = blse_exp(scale * xi[i] - m); /* the pair itself is kept */
      for (int64_t j = 0; j < n; j++) cp[j] += e[j];
    } else {
      for (int64_t j = 0; j < n; j++) ec[j] = blse_exp(scale * xi[j] - b->colShift[j]);
      if (groups)
        for (int64_t j = 0; j < n; j++) ec[j] = groups[j] == gi ? 0.0f : ec[j];
      if (groups) {
        e[i] = blse_exp(scale * xi[i] - m);
        ec[i] = blse_exp(scale * xi[i] - b->colShift[i]);
      }
      for (int64_t j = 0; j < n; j++) cp[j] += ec[j];
    }
    b->rowSum[i] = blse_row_sum(e, n);
  }
  free(e);
  free(ec);
}

static void *blse_thread(void *arg) {
  const blse_job *job = (const blse_job *)arg;
  for (int c = job->c0; c < job->c1; c++) job->pass(job->b, c);
  return NULL;
}

/* run `pass` on every chunk, the chunks split over `threads` threads (this one included) */
static void blse_each(blse_block *b, blse_pass pass, int threads) {
  blse_job jobs[BLSE_CHUNKS];
  pthread_t ids[BLSE_CHUNKS];
  int started[BLSE_CHUNKS] = {0};
  for (int k = 0; k < threads; k++) jobs[k] = (blse_job){b, pass, (BLSE_CHUNKS * k) / threads, (BLSE_CHUNKS * (k + 1)) / threads};
  for (int k = 1; k < threads; k++) started[k] = pthread_create(&ids[k], NULL, blse_thread, &jobs[k]) == 0;
  blse_thread(&jobs[0]);
  for (int k = 1; k < threads; k++) {
    if (started[k]) pthread_join(ids[k], NULL);
    else blse_thread(&jobs[k]); /* no thread: do its share here */
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

static napi_value BlockLogSumExp(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) FAIL(type_error, "blockLogSumExp: expected 6 arguments");
  float *x;
  double scale, *rowLse, *colLse;
  int32_t *groups = NULL;
  size_t lx, lg = 0, lr, lc;
  int64_t n;
  if (!get_f32(env, argv[0], &x, &lx) || !get_int(env, argv[1], &n) || !get_num(env, argv[2], &scale) ||
      !(is_null(env, argv[3]) || get_typed(env, argv[3], napi_int32_array, (void **)&groups, &lg)) ||
      !get_f64(env, argv[4], &rowLse, &lr) || !get_f64(env, argv[5], &colLse, &lc))
    FAIL(type_error, "blockLogSumExp: bad argument types");
  if (n < 1 || lx < (size_t)(n * n) || (groups && lg != (size_t)n) || lr != (size_t)n || lc != (size_t)n)
    FAIL(range_error, "blockLogSumExp: sizes do not match");
  if (!(scale > 0) || !isfinite(scale)) FAIL(range_error, "blockLogSumExp: scale must be finite and > 0");
  blse_block b = {0};
  b.x = x;
  b.groups = groups;
  b.n = n;
  b.scale = (float)scale;
  b.rowSum = (double *)malloc((size_t)n * sizeof(double));
  b.colPart = (double *)malloc((size_t)n * BLSE_CHUNKS * sizeof(double));
  if (!b.rowSum || !b.colPart) {
    free(b.rowSum);
    free(b.colPart);
    FAIL(error, "blockLogSumExp: out of memory");
  }
  int threads = openblas_get_num_threads();
  if (threads < 1) threads = 1;
  if (threads > BLSE_CHUNKS) threads = BLSE_CHUNKS;
  if (n < 512) threads = 1; /* small blocks: one thread */
  blse_each(&b, blse_range, threads);
  float hi = -INFINITY, lo = INFINITY;
  int bad = 0;
  for (int c = 0; c < BLSE_CHUNKS; c++) {
    if (blse_row(&b, c) == blse_row(&b, c + 1)) continue;
    hi = b.chunkMax[c] > hi ? b.chunkMax[c] : hi;
    lo = b.chunkMin[c] < lo ? b.chunkMin[c] : lo;
    bad |= b.chunkBad[c];
  }
  int ok = 1;
  if (bad) {
    for (int64_t i = 0; i < n; i++) rowLse[i] = colLse[i] = NAN;
  } else if ((double)b.scale * ((double)hi - (double)lo) < 80.0) {
    b.shift = b.scale * hi;
    blse_each(&b, blse_sums, threads);
    for (int64_t i = 0; i < n; i++) rowLse[i] = (double)b.shift + log(b.rowSum[i]);
  } else {
    b.twoShifts = 1;
    b.rowShift = (float *)malloc((size_t)n * sizeof(float));
    b.colShift = (float *)malloc((size_t)n * sizeof(float));
    b.colPartMax = (float *)malloc((size_t)n * BLSE_CHUNKS * sizeof(float));
    ok = b.rowShift && b.colShift && b.colPartMax;
    if (ok) {
      blse_each(&b, blse_maxima, threads);
      for (int64_t j = 0; j < n; j++) {
        float m = -INFINITY;
        for (int c = 0; c < BLSE_CHUNKS; c++) {
          const float v = b.colPartMax[(size_t)c * (size_t)n + (size_t)j];
          m = v > m ? v : m;
        }
        b.colShift[j] = m;
      }
      blse_each(&b, blse_sums, threads);
      for (int64_t i = 0; i < n; i++) rowLse[i] = (double)b.rowShift[i] + log(b.rowSum[i]);
    }
  }
  for (int c = 0; c < BLSE_CHUNKS; c++) ok &= b.chunkBad[c] != 2;
  if (ok && !bad) {
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int c = 0; c < BLSE_CHUNKS; c++) s += b.colPart[(size_t)c * (size_t)n + (size_t)j];
      colLse[j] = (double)(b.twoShifts ? b.colShift[j] : b.shift) + log(s);
    }
  }
  free(b.rowSum);
  free(b.colPart);
  free(b.rowShift);
  free(b.colShift);
  free(b.colPartMax);
  if (!ok) FAIL(error, "blockLogSumExp: out of memory");
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &v));
  CHECK(napi_set_named_property(env, obj, "numThreads", v));
  CHECK(napi_create_int32(env, openblas_get_num_procs(), &v));
  CHECK(napi_set_named_property(env, obj, "numProcs", v));
  const char *cfg = openblas_get_config();
  CHECK(napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "config", v));
  const char *core = openblas_get_corename();
  CHECK(napi_create_string_utf8(env, core ? core : "", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "coreName", v));
  return obj;
}

static napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t n;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &n) || n < 1 || n > 1024)
    FAIL(range_error, "setNumThreads: expected an integer >= 1");
  openblas_set_num_threads((int)n);
  return NULL;
}

/* Bumped whenever a function's signature changes; the loader refuses an addon of another version. */
#define CLEAVE_BLAS_ABI 4

static napi_value Init(napi_env env, napi_value exports) {
  napi_value abi;
  if (napi_create_int32(env, CLEAVE_BLAS_ABI, &abi) != napi_ok ||
      napi_set_named_property(env, exports, "abi", abi) != napi_ok)
    return NULL;
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"sgemmBatched", NULL, SgemmBatched, NULL, NULL, NULL, napi_default, NULL},
      {"epilogue", NULL, Epilogue, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, Adam, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, Binary, NULL, NULL, NULL, napi_default, NULL},
      {"reduceSum", NULL, ReduceSum, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, Unary, NULL, NULL, NULL, napi_default, NULL},
      {"maskedLogSumExp", NULL, MaskedLogSumExp, NULL, NULL, NULL, napi_default, NULL},
      {"blockLogSumExp", NULL, BlockLogSumExp, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
      {"setNumThreads", NULL, SetNumThreads, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
