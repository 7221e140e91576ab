/*
 * kl_gemm.h - the GEMM core of the kernel layer: Gemm, MatMul and Conv
 * lowered to one packed, register-blocked float32 matrix product (and a
 * matrix-vector and a depthwise kernel beside it), see kl_gemm.c.
 *
 * Lowering and rendering are two steps.  kl_mm_lower_* turn a node (shapes
 * static) into a kl_mm descriptor: which kernel, the sizes and strides of
 * every operand, the blocking, the epilogue and the arena scratch the
 * kernel wants.  It reads nothing but the node, so the memory planner (via
 * the op table's scratch_bytes) and the renderer lower the same node to the
 * same descriptor.  kl_mm_render turns a descriptor into C and decides
 * nothing.  A node the core does not take (F64, integer types, 3-D
 * convolution, rare Gemm C shapes) lowers to KL_MM_NONE and keeps kl_nn.h's
 * plain loops.
 */
#ifndef MODELC_KL_GEMM_H
#define MODELC_KL_GEMM_H

#include "kl_nn.h"

/* The micro-kernel's tile and the blocking; the packed layouts of
 * constants depend on KL_MM_MR and KL_MM_NR. */
#define KL_MM_MR 6
#define KL_MM_NR 16
#define KL_MM_KC 256
#define KL_MM_MC 72
#define KL_MM_B_BLOCK_FLOATS 16384  /* a run-time packed B block: KC x NC floats, 64 KiB */
#define KL_MM_NC_MAX 256            /* columns of a B block: more gains no speed and costs arena (a short K would take 64 KiB) */
#define KL_MM_KC_MIN 32             /* under a scratch cap (plan.h), K blocks shorten down to this, */
#define KL_MM_NC_MIN 64             /* then B blocks narrow down to this: smaller ones cost speed */
#define KL_MM_PAD_MAX_FLOATS 65536  /* the largest band of the padded input copy (KL_MM_B_PADDED), 256 KiB */
#define KL_MM_DW_ROW 512            /* the widest padded row of the depthwise 3x3 kernel's ring (MC_DW_ROW) */
#define KL_MM_T_MAX_N 196           /* the most columns (a 14x14 output) the transposed tile takes (kl_gemm.c) */

typedef enum kl_mm_kind {
  KL_MM_NONE = 0,   /* not for the core: the plain loops of kl_nn.h */
  KL_MM_GEMM,       /* blocked, packed MR x NR tiles */
  KL_MM_GEMV,       /* M = 1: B rows streamed once */
  KL_MM_DW          /* depthwise convolution, one channel plane at a time */
} kl_mm_kind;

enum { KL_MM_A_CONST = 1, KL_MM_A_RUN = 2 };   /* kl_mm.a_pack: where A is packed */

typedef enum kl_mm_bkind {   /* where B(k,n) comes from; values as in the emitted enum */
  KL_MM_B_PACKED = 0,        /* a constant packed at compile time */
  KL_MM_B_ROWS,              /* b[k*b_ks + n] */
  KL_MM_B_STRIDED,           /* b[k*b_ks + n*b_ns], packed at run time */
  KL_MM_B_IM2COL,            /* the im2col view of one convolution group, packed at run time */
  KL_MM_B_PADDED,            /* rows of B read from bands of a zero-padded, phase-split copy of the input */
  KL_MM_B_TAPS               /* the transposed tile only: a convolution input read in place, no padding inside */
} kl_mm_bkind;

#define KL_MM_MAX_OUTER (IR_MAX_RANK + 1)

typedef struct kl_mm {
  kl_mm_kind kind;
  int64_t M, N, K, MC, NC, KC;
  /* Outer loops (MatMul batch dims; convolution batch and group), with
   * each operand's element offset per step of each loop. */
  int n_outer;
  int64_t outer[KL_MM_MAX_OUTER];
  int64_t a_os[KL_MM_MAX_OUTER], b_os[KL_MM_MAX_OUTER], y_os[KL_MM_MAX_OUTER];
  int64_t bias_os[KL_MM_MAX_OUTER], res_os[KL_MM_MAX_OUTER];
  /* The transposed tile (mc_gemmt, small N): the vector along M, a few
   * columns of B broadcast; A then packed as panels [M/NR][K][NR]. */
  int tposed;
  /* A(m,k) = in[a_in][m*a_rs + k*a_cs]; a_pack: read in place (0), packed
   * at compile time (KL_MM_A_CONST) or, not being constant, at run time
   * (KL_MM_A_RUN) into the same panels in scratch_pk floats of arena
   * scratch, every distinct slice of the outer loops once per node call,
   * before them (and before any parallel part, which all read it). */
  int a_in, a_pack;
  int64_t a_rs, a_cs;
  /* B(k,n) = in[b_in][k*b_ks + n*b_ns] (or the im2col view); when b_pack the
   * constant is packed at compile time: panels for GEMM, rows for GEMV. */
  int b_in, b_pack;
  kl_mm_bkind bkind;
  int64_t b_ks, b_ns;
  int64_t C, H, W, KH, KW, SH, SW, DH, DW, PH, PW, OH, OW;   /* IM2COL, PADDED and DW geometry */
  int64_t vh, vw, bh, xps;   /* PADDED: the grid the GEMM runs on (N = columns of it), the output rows
                              * of a band of the copy, and the band's floats */
  int64_t ldy;
  /* The epilogue: y = act(alpha*AB + beta*bias + rscale*res). */
  double alpha, beta, rscale;
  int bias_in, bias_mode;      /* bias_mode 0 none, 1 bias[m], 2 bias[n], 3 bias[0] */
  int res_in;                  /* -1: none; res[m*ldr + n] */
  int64_t ldr;
  /* Arena scratch in floats: the run-time packed B block (KL_MM_B_PADDED:
   * a band of the padded copy and its tap table), then A's edge rows.  The
   * block (the band) shrinks to the node's PLAN_SCRATCH_CAP_ATTR (bytes
   * free at its step, from the planner) when it would not fit there; where
   * not even a band of one output row fits, the im2col blocks take over
   * (when their floor is the smaller). */
  int64_t scratch_b, scratch_a;
  int64_t scratch_pk;   /* KL_MM_A_RUN: the packed A, before the parts' scratch, shared by them */
  /* --threads (kl_par.h): GEMM cut into `slots` parts run in parallel, each
   * with its own scratch (0 or 1: one), by N's panels when split_n (whole
   * bands of a padded copy where it has one a part), else by M's row tiles. */
  int slots, split_n;
  /* PADDED only: run by whole output rows (mc_convr; OW past one 16-column
   * half and not a multiple of it, K in one block, no residual), parts of
   * the rows in parallel. */
  int rows;
} kl_mm;

/* Lower a node to the core from the plain kernels' descriptor of it (its
 * sizes and strides; buffer names are not read and may be NULL); d->kind
 * is KL_MM_NONE when the core does not take it.  Gemm and MatMul read
 * their operands at inputs 0, 1 (and Gemm's C at 2); Conv X, W, bias at 0,
 * 1, 2.  A fused residual is the node's "_residual" input. */
void kl_mm_lower_gemm(const ir_node *n, const kl_gemm_desc *g, int is_matmul, kl_mm *d);
void kl_mm_lower_conv(const ir_node *n, const kl_conv_desc *c, kl_mm *d);
/* Whether the parts of a parallel product (slots > 1) share one whole
 * padded copy of the input, made before them (the transposed tile and
 * mc_convr over KL_MM_B_PADDED), rather than each padding its own. */
int kl_mm_shared_copy(const kl_mm *d);
/* Bytes of arena scratch the lowered kernel needs: the run-time packed A
 * (scratch_pk), then the parts' slices of kl_mm_part_bytes each (or the
 * one scratch they share). */
int64_t kl_mm_scratch_bytes(const kl_mm *d);
/* op_def.part_bytes of the lowered kernel: the bytes of each parallel
 * part's own scratch slice (*parts of them), 0 when its parts share
 * their scratch or it has none. */
int64_t kl_mm_part_bytes(const kl_mm *d, int *parts);
/* The input whose bytes y may take (op_def.share_input): the residual of
 * the GEMM and GEMV kernels, which read each residual value in the first K
 * block before they store y there; X of a depthwise convolution whose
 * output has X's size (then, once planned in place, PLAN_IN_PLACE_ATTR, it
 * asks for one channel plane of scratch and copies each plane there before
 * writing over it: TinyEngine's in-place depthwise; not the 3x3 kernel,
 * whose ring of rows holds every row it still reads); -1 otherwise. */
int kl_mm_share_input(const kl_mm *d);
/* Write the node's kernel (constants packed into their own weight arrays);
 * the activation comes from the node's fusion attributes. */
int kl_mm_render(emit_ctx *e, const ir_node *n, const kl_mm *d);

/* For a kernel that drives the core itself with operands it names (the
 * RNNs: projections as one GEMM, recurrences as a GEMV per step).
 * kl_mm_plan_const_b lowers Y[M][N] = A B with A read in place (rows a_rs
 * apart, contiguous along k) and B a constant packed at compile time;
 * kl_mm_use writes the helpers of d->kind; kl_mm_pack_const_b packs the
 * K x N matrix B(k,n) = src[k*ks + n*ns] into the layout d->kind reads
 * (panels for GEMM, rows [K][N] for GEMV) as a weights array and returns
 * its C name. */
void kl_mm_plan_const_b(kl_mm *d, kl_mm_kind kind, int64_t M, int64_t N, int64_t K, int64_t a_rs);
void kl_mm_use(emit_ctx *e, const kl_mm *d);
const char *kl_mm_pack_const_b(emit_ctx *e, const kl_mm *d, const char *what, const float *src, int64_t ks,
                               int64_t ns);

/* The core's float32 sigmoid (or tanh): branch-free, on a polynomial
 * mc_expf within a few ulp, so that loops over them vectorize; emitted
 * once.  Returns the helper's name ("mc_sigmoidf", "mc_tanhf"). */
const char *kl_mm_use_fast_act(emit_ctx *e, int tanh_not_sigmoid);

#endif
