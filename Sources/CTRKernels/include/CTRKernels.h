// Small dense kernels for the per-row attention products of AutoInt.
//
// The products are too small for OpenBLAS (39x39x32 per row and head): its per-call overhead and packing
// dominate. These loops are written so the compiler vectorizes them, and are compiled twice: for AVX2+FMA
// (chosen at run time when the CPU has it) and for the baseline x86-64/arm64 target.
#ifndef CTR_KERNELS_H
#define CTR_KERNELS_H

/// One attention head of one row, forward: S = softmax(scale * Q Kᵀ) (stored in `scores`, [fields, fields]),
/// out = S V. Q, K, V rows are `ld` floats apart; `out` rows are `ldo` apart; `scratch` holds
/// `headDimension * (fields rounded up to 8)` floats.
void ctr_attention_head_forward(const float *q, const float *k, const float *v, long ld, long fields,
                                long headDimension, float scale, float *scores, float *out, long ldo,
                                float *scratch);

/// One attention head of one row, backward, from the forward's `scores` and the output gradient `dout`
/// (rows `lddo` apart): writes (overwrites) dQ, dK, dV (rows `ld` apart). `scratch` holds
/// `fields * (fields rounded up to 8) + headDimension * (fields rounded up to 8)` floats.
void ctr_attention_head_backward(const float *q, const float *k, const float *v, long ld, long fields,
                                 long headDimension, float scale, const float *scores, const float *dout,
                                 long lddo, float *dq, float *dk, float *dv, float *scratch);

#endif
