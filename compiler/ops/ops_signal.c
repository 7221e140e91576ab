/*
 * ops_signal.c - op table entries of the signal group: the window
 * generators (HannWindow, HammingWindow, BlackmanWindow), DFT, STFT and
 * MelWeightMatrix.
 *
 * Everything that decides a shape must be known at compile time: a
 * window's size, DFT's dft_length (and, from opset 20, its axis input),
 * STFT's frame_step and frame_length, and all of MelWeightMatrix's inputs.
 * infer reads them with op_const_ints (an input that is not constant is an
 * error that suggests --const); windows and mel matrices then fold into
 * constants.  Complex tensors are real tensors with a trailing dimension
 * of 2 (re, im); a trailing 1 is a real signal.
 *
 * DFT keeps ONNX's layout: input [batch, ..., n, ..., 1|2] transformed
 * along `axis` (never the last), output the same with `axis` resized to
 * dft_length (or dft_length/2+1 when onesided) and a trailing 2.  A
 * dft_length shorter than the axis truncates the signal, a longer one
 * zero-pads it.  STFT's output is [batch, frames, bins, 2].
 *
 * infer leaves what it resolved on the node for the kernels: DFT's "_axis"
 * (normalized) and "_dft_length", STFT's "_frame_step" and
 * "_frame_length".
 */
#include "op.h"

#include <string.h>

#include "../backend/emit_signal.h"
#include "../../runtime/kernels/interp_signal.h"

static int is_float(ir_dtype t) { return t == IR_F32 || t == IR_F64 || t == IR_F16 || t == IR_BF16; }

static const ir_tensor *opt_in(const ir_node *n, int i) { return i < n->n_in ? n->in[i] : NULL; }

/* Scalar (one-element) integer constant input i. */
static int const_scalar(const ir_node *n, int i, int64_t *v) {
  int cnt;
  if (op_const_ints(n, i, v, 1, &cnt) < 0) return -1;
  if (cnt != 1) return op_fail(n, "input %d ('%s') must hold one value", i, n->in[i]->name);
  return 0;
}

static int out_datatype(const ir_node *n, ir_dtype *dt) {
  int64_t v = ir_attr_int(n, "output_datatype", 1);
  *dt = ir_dtype_from_onnx((int)v);
  if (*dt == IR_UNDEF || *dt == IR_STRING || *dt == IR_BOOL)
    return op_fail(n, "output_datatype %lld is not a supported numeric type", (long long)v);
  return 0;
}

static int need_bool_attr(const ir_node *n, const char *name, int64_t def) {
  int64_t v = ir_attr_int(n, name, def);
  if (v != 0 && v != 1) return op_fail(n, "%s=%lld must be 0 or 1", name, (long long)v);
  return 0;
}

/* ---- windows ------------------------------------------------------------------ */

static int validate_window(ir_node *n) {
  ir_dtype dt;
  if (need_bool_attr(n, "periodic", 1) < 0 || out_datatype(n, &dt) < 0) return -1;
  if (!ir_attr_find(n, "periodic")) ir_attr_set_int(n, "periodic", 1);
  return 0;
}

static int infer_window(ir_graph *g, ir_node *n) {
  (void)g;
  int64_t size;
  ir_dtype dt;
  if (const_scalar(n, 0, &size) < 0 || out_datatype(n, &dt) < 0) return -1;
  if (size < 0) return op_fail(n, "window size %lld is negative", (long long)size);
  n->out[0]->dtype = dt;
  ir_set_shape(n->out[0], 1, &size);
  return 0;
}

/* ---- DFT ------------------------------------------------------------------------- */

static int validate_dft(ir_node *n) {
  if (need_bool_attr(n, "onesided", 0) < 0 || need_bool_attr(n, "inverse", 0) < 0) return -1;
  if (ir_attr_int(n, "onesided", 0) && ir_attr_int(n, "inverse", 0))
    return op_fail(n, "onesided together with inverse (a complex-to-real inverse) is not supported");
  if (n->opset >= 20 && ir_attr_find(n, "axis")) return op_fail(n, "axis is an input from opset 20 on");
  return 0;
}

/* The transformed axis (normalized), its length n and the output length. */
static int dft_geometry(const ir_node *n, int *axis, int64_t *len, int64_t *out_len) {
  const ir_tensor *x = n->in[0];
  int64_t a = ir_attr_int(n, "axis", 1);
  if (n->opset >= 20) {
    a = -2;
    if (opt_in(n, 2) && const_scalar(n, 2, &a) < 0) return -1;
  }
  if (op_axis(n, a, x->rank, axis) < 0) return -1;
  if (*axis == x->rank - 1) return op_fail(n, "axis %lld is the trailing (re, im) dimension", (long long)a);
  *len = x->shape[*axis];
  if (opt_in(n, 1) && const_scalar(n, 1, len) < 0) return -1;
  if (*len < 1) return op_fail(n, "dft_length %lld must be positive", (long long)*len);
  *out_len = ir_attr_int(n, "onesided", 0) ? *len / 2 + 1 : *len;
  return 0;
}

static int infer_dft(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0];
  int axis;
  int64_t len = 0, out_len = 0, dims[IR_MAX_RANK];
  if (!is_float(x->dtype))
    return op_fail(n, "input '%s' is %s; it must be a float type", x->name, ir_dtype_name(x->dtype));
  if (x->rank < 2 || (x->shape[x->rank - 1] != 1 && x->shape[x->rank - 1] != 2))
    return op_fail(n, "input '%s' must end in a dimension of 1 (real) or 2 (complex)", x->name);
  if (dft_geometry(n, &axis, &len, &out_len) < 0) return -1;
  if (ir_attr_int(n, "onesided", 0) && x->shape[x->rank - 1] == 2)
    return op_fail(n, "onesided needs a real input, '%s' is complex", x->name);
  memcpy(dims, x->shape, sizeof dims);
  dims[axis] = out_len;
  dims[x->rank - 1] = 2;
  ir_attr_set_int(n, "_axis", axis);
  ir_attr_set_int(n, "_dft_length", len);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], x->rank, dims);
  return 0;
}

/* ---- STFT ------------------------------------------------------------------------- */

/* frame_step, frame_length (from the window when there is one), frames, bins. */
static int stft_geometry(const ir_node *n, int64_t *step, int64_t *flen, int64_t *frames, int64_t *bins) {
  const ir_tensor *x = n->in[0], *w = opt_in(n, 2);
  if (const_scalar(n, 1, step) < 0) return -1;
  if (*step < 1) return op_fail(n, "frame_step %lld must be positive", (long long)*step);
  *flen = -1;
  if (w) {
    if (w->rank != 1) return op_fail(n, "window '%s' must be 1-D", w->name);
    *flen = w->shape[0];
  }
  if (opt_in(n, 3)) {
    int64_t fl;
    if (const_scalar(n, 3, &fl) < 0) return -1;
    if (*flen >= 0 && fl != *flen)
      return op_fail(n, "frame_length %lld differs from the window's length %lld", (long long)fl, (long long)*flen);
    *flen = fl;
  }
  if (*flen < 0) return op_fail(n, "needs a window or a frame_length");
  if (*flen < 1 || *flen > x->shape[1])
    return op_fail(n, "frame length %lld must be in [1, %lld]", (long long)*flen, (long long)x->shape[1]);
  *frames = (x->shape[1] - *flen) / *step + 1;
  *bins = ir_attr_int(n, "onesided", 1) ? *flen / 2 + 1 : *flen;
  return 0;
}

static int validate_stft(ir_node *n) {
  if (need_bool_attr(n, "onesided", 1) < 0) return -1;
  if (!ir_attr_find(n, "onesided")) ir_attr_set_int(n, "onesided", 1);
  return 0;
}

static int infer_stft(ir_graph *g, ir_node *n) {
  (void)g;
  const ir_tensor *x = n->in[0], *w = opt_in(n, 2);
  int64_t step = 0, flen = 0, dims[4] = {0, 0, 0, 0};
  if (!is_float(x->dtype))
    return op_fail(n, "signal '%s' is %s; it must be a float type", x->name, ir_dtype_name(x->dtype));
  if (x->rank != 3 || (x->shape[2] != 1 && x->shape[2] != 2))
    return op_fail(n, "signal '%s' must be [batch, length, 1 or 2]", x->name);
  if (w && w->dtype != x->dtype)
    return op_fail(n, "window '%s' is %s but the signal is %s", w->name, ir_dtype_name(w->dtype),
                   ir_dtype_name(x->dtype));
  if (ir_attr_int(n, "onesided", 1) && x->shape[2] == 2)
    return op_fail(n, "onesided needs a real signal, '%s' is complex (set onesided=0)", x->name);
  if (stft_geometry(n, &step, &flen, &dims[1], &dims[2]) < 0) return -1;
  dims[0] = x->shape[0];
  dims[3] = 2;
  ir_attr_set_int(n, "_frame_step", step);
  ir_attr_set_int(n, "_frame_length", flen);
  n->out[0]->dtype = x->dtype;
  ir_set_shape(n->out[0], 4, dims);
  return 0;
}

/* ---- MelWeightMatrix --------------------------------------------------------------- */

static int validate_mel(ir_node *n) {
  ir_dtype dt;
  return out_datatype(n, &dt);
}

static int infer_mel(ir_graph *g, ir_node *n) {
  (void)g;
  int64_t bins, dft, rate, dims[2];
  ir_dtype dt;
  if (const_scalar(n, 0, &bins) < 0 || const_scalar(n, 1, &dft) < 0 || const_scalar(n, 2, &rate) < 0) return -1;
  for (int i = 3; i < 5; i++) {
    if (!n->in[i]->data)
      return op_fail(n, "input %d ('%s') must be a compile-time constant (use --const)", i, n->in[i]->name);
    if (!is_float(n->in[i]->dtype) || ir_numel(n->in[i]) != 1)
      return op_fail(n, "input %d ('%s') must be a float scalar", i, n->in[i]->name);
  }
  if (bins < 1 || dft < 1 || rate < 1)
    return op_fail(n, "num_mel_bins, dft_length and sample_rate must be positive");
  if (out_datatype(n, &dt) < 0) return -1;
  dims[0] = dft / 2 + 1;
  dims[1] = bins;
  n->out[0]->dtype = dt;
  ir_set_shape(n->out[0], 2, dims);
  return 0;
}

/* ---- the table --------------------------------------------------------------------- */

static const op_attr_spec window_attrs[] = {
  {"output_datatype", IR_ATTR_INT}, {"periodic", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec dft_attrs[] = {
  {"axis", IR_ATTR_INT}, {"inverse", IR_ATTR_INT}, {"onesided", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec stft_attrs[] = {{"onesided", IR_ATTR_INT}, {NULL, 0}};
static const op_attr_spec mel_attrs[] = {{"output_datatype", IR_ATTR_INT}, {NULL, 0}};

#define WINDOW(op) \
  {.name = #op, .domain = "", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .attrs = window_attrs, \
   .validate = validate_window, .infer = infer_window, .interp = interp_signal_##op, .emit = emit_signal_##op}

const op_def ops_signal[] = {
  WINDOW(HannWindow),
  WINDOW(HammingWindow),
  WINDOW(BlackmanWindow),
  {.name = "DFT", .domain = "", .min_in = 1, .max_in = 3, .min_out = 1, .max_out = 1, .attrs = dft_attrs,
   .validate = validate_dft, .infer = infer_dft, .interp = interp_signal_DFT, .emit = emit_signal_DFT},
  {.name = "STFT", .domain = "", .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1, .attrs = stft_attrs,
   .validate = validate_stft, .infer = infer_stft, .interp = interp_signal_STFT, .emit = emit_signal_STFT},
  {.name = "MelWeightMatrix", .domain = "", .min_in = 5, .max_in = 5, .min_out = 1, .max_out = 1,
   .attrs = mel_attrs, .validate = validate_mel, .infer = infer_mel, .interp = interp_signal_MelWeightMatrix,
   .emit = emit_signal_MelWeightMatrix},
  {.name = NULL}};
