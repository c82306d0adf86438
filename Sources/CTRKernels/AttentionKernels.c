#include "CTRKernels.h"
#include <math.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static long padded(long n) { return (n + 7) & ~7L; }

// out[0..<W] = sum over t < count of coef[t * cs] * rows[t * rs + 0..<W], for a compile-time W.
// Two accumulator sets (even and odd t) keep two independent FMA chains per vector in flight.
#define COMBINE_FIXED(W)                                                                              \
    ALWAYS_INLINE void combine_fixed##W(float *restrict out, const float *restrict coef, long cs,      \
                                        long count, const float *restrict rows, long rs) {             \
        float even[W] = {0}, odd[W] = {0};                                                            \
        long t = 0;                                                                                   \
        for (; t + 1 < count; t += 2) {                                                               \
            const float c0 = coef[t * cs], c1 = coef[(t + 1) * cs];                                   \
            const float *restrict r0 = rows + t * rs, *restrict r1 = r0 + rs;                         \
            for (int w = 0; w < W; w++) even[w] += c0 * r0[w];                                        \
            for (int w = 0; w < W; w++) odd[w] += c1 * r1[w];                                         \
        }                                                                                             \
        if (t < count) {                                                                              \
            const float c0 = coef[t * cs];                                                            \
            const float *restrict r0 = rows + t * rs;                                                 \
            for (int w = 0; w < W; w++) even[w] += c0 * r0[w];                                        \
        }                                                                                             \
        for (int w = 0; w < W; w++) out[w] = even[w] + odd[w];                                        \
    }

COMBINE_FIXED(8)
COMBINE_FIXED(16)
COMBINE_FIXED(24)
COMBINE_FIXED(32)
COMBINE_FIXED(40)
COMBINE_FIXED(48)

// out[0..<width] = sum over t < count of coef[t * cs] * rows[t * rs + 0..<width]
ALWAYS_INLINE void combine(float *restrict out, const float *restrict coef, long cs, long count,
                           const float *restrict rows, long rs, long width) {
    switch (width) {
    case 8: combine_fixed8(out, coef, cs, count, rows, rs); return;
    case 16: combine_fixed16(out, coef, cs, count, rows, rs); return;
    case 24: combine_fixed24(out, coef, cs, count, rows, rs); return;
    case 32: combine_fixed32(out, coef, cs, count, rows, rs); return;
    case 40: combine_fixed40(out, coef, cs, count, rows, rs); return;
    case 48: combine_fixed48(out, coef, cs, count, rows, rs); return;
    default: break;
    }
    for (long w = 0; w < width; w++) out[w] = 0;
    for (long t = 0; t < count; t++) {
        const float c = coef[t * cs];
        const float *restrict r = rows + t * rs;
        for (long w = 0; w < width; w++) out[w] += c * r[w];
    }
}

// e^x for x <= 0 (softmax inputs minus their maximum), Cephes' expf polynomial: relative error ~1e-7,
// branch-free so the loop over a row vectorizes.
ALWAYS_INLINE float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;
    const float n = floorf(x * 1.44269504088896341f + 0.5f);
    x -= n * 0.693359375f;
    x -= n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * x * x + x + 1.0f;
    union { int i; float f; } scale = { .i = ((int)n + 127) << 23 };
    return y * scale.f;
}

// xt[d][j] = x[j][d] for j < fields, zero for fields <= j < padded(fields)
ALWAYS_INLINE void transpose_padded(float *restrict xt, const float *restrict x, long ld, long fields, long dim) {
    const long fp = padded(fields);
    for (long d = 0; d < dim; d++) {
        float *restrict row = xt + d * fp;
        for (long j = 0; j < fields; j++) row[j] = x[j * ld + d];
        for (long j = fields; j < fp; j++) row[j] = 0;
    }
}

ALWAYS_INLINE void forward_impl(const float *q, const float *k, const float *v, long ld, long fields,
                                long hd, float scale, float *scores, float *out, long ldo, float *scratch) {
    const long fp = padded(fields);
    float *kt = scratch;               // [hd, fp]
    float *row = scratch + hd * fp;    // [fp]
    transpose_padded(kt, k, ld, fields, hd);
    for (long i = 0; i < fields; i++) {
        combine(row, q + i * ld, 1, hd, kt, fp, fp);
        float maximum = -INFINITY;
        for (long j = 0; j < fields; j++) {
            row[j] *= scale;
            maximum = row[j] > maximum ? row[j] : maximum;
        }
        for (long j = 0; j < fields; j++) row[j] = exp_nonpositive(row[j] - maximum);
        float sum = 0;
        for (long j = 0; j < fields; j++) sum += row[j];
        const float inverse = 1 / sum;
        float *s = scores + i * fields;
        for (long j = 0; j < fields; j++) s[j] = row[j] * inverse;
    }
    for (long i = 0; i < fields; i++) combine(out + i * ldo, scores + i * fields, 1, fields, v, ld, hd);
}

ALWAYS_INLINE void backward_impl(const float *q, const float *k, const float *v, long ld, long fields,
                                 long hd, float scale, const float *scores, const float *dout, long lddo,
                                 float *dq, float *dk, float *dv, float *scratch) {
    const long fp = padded(fields);
    float *ds = scratch;               // [fields, fp]
    float *vt = scratch + fields * fp; // [hd, fp]
    transpose_padded(vt, v, ld, fields, hd);
    for (long i = 0; i < fields; i++) {
        float *g = ds + i * fp;
        combine(g, dout + i * lddo, 1, hd, vt, fp, fp);  // dA[i, :] = dO[i, :] Vᵀ
        const float *a = scores + i * fields;
        float dot = 0;
        for (long j = 0; j < fields; j++) dot += a[j] * g[j];
        for (long j = 0; j < fields; j++) g[j] = a[j] * (g[j] - dot) * scale;
    }
    for (long j = 0; j < fields; j++) {
        combine(dv + j * ld, scores + j, fields, fields, dout, lddo, hd);  // dV[j] = Σ_i A[i, j] dO[i]
        combine(dk + j * ld, ds + j, fp, fields, q, ld, hd);              // dK[j] = Σ_i dS[i, j] Q[i]
    }
    for (long i = 0; i < fields; i++) combine(dq + i * ld, ds + i * fp, 1, fields, k, ld, hd);  // dQ = dS K
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void forward_avx2(const float *q, const float *k, const float *v, long ld,
    long fields, long hd, float scale, float *scores, float *out, long ldo, float *scratch) {
    forward_impl(q, k, v, ld, fields, hd, scale, scores, out, ldo, scratch);
}
__attribute__((target("avx2,fma"))) static void backward_avx2(const float *q, const float *k, const float *v, long ld,
    long fields, long hd, float scale, const float *scores, const float *dout, long lddo, float *dq, float *dk,
    float *dv, float *scratch) {
    backward_impl(q, k, v, ld, fields, hd, scale, scores, dout, lddo, dq, dk, dv, scratch);
}
static int has_avx2_fma(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

void ctr_attention_head_forward(const float *q, const float *k, const float *v, long ld, long fields,
                                long headDimension, float scale, float *scores, float *out, long ldo,
                                float *scratch) {
#if defined(__x86_64__)
    if (has_avx2_fma()) {
        forward_avx2(q, k, v, ld, fields, headDimension, scale, scores, out, ldo, scratch);
        return;
    }
#endif
    forward_impl(q, k, v, ld, fields, headDimension, scale, scores, out, ldo, scratch);
}

void ctr_attention_head_backward(const float *q, const float *k, const float *v, long ld, long fields,
                                 long headDimension, float scale, const float *scores, const float *dout,
                                 long lddo, float *dq, float *dk, float *dv, float *scratch) {
#if defined(__x86_64__)
    if (has_avx2_fma()) {
        backward_avx2(q, k, v, ld, fields, headDimension, scale, scores, dout, lddo, dq, dk, dv, scratch);
        return;
    }
#endif
    backward_impl(q, k, v, ld, fields, headDimension, scale, scores, dout, lddo, dq, dk, dv, scratch);
}
