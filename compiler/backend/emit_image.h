/*
 * emit_image.h - C emitters of the image group (ops_image.c).  Layout ops
 * go through kl_copy; the others write their loops here with literal
 * bounds, Resize's per-axis source indices and weights precomputed at
 * compile time into static tables.  Signatures are op_def.emit's.
 */
#ifndef MODELC_EMIT_IMAGE_H
#define MODELC_EMIT_IMAGE_H

#include "emit.h"

int emit_image_resize(emit_ctx *e, const ir_node *n);
int emit_image_depth_to_space(emit_ctx *e, const ir_node *n);
int emit_image_space_to_depth(emit_ctx *e, const ir_node *n);
int emit_image_conv_transpose(emit_ctx *e, const ir_node *n);
/* Arena scratch of ConvTranspose's 2-D GEMM + col2im path, for op_def.scratch_bytes. */
int64_t emit_image_conv_transpose_scratch(const ir_node *n);
int emit_image_lp_pool(emit_ctx *e, const ir_node *n);
int emit_image_global_lp_pool(emit_ctx *e, const ir_node *n);
int emit_image_max_unpool(emit_ctx *e, const ir_node *n);
int emit_image_grid_sample(emit_ctx *e, const ir_node *n);
int emit_image_roi_align(emit_ctx *e, const ir_node *n);
int emit_image_layer_norm(emit_ctx *e, const ir_node *n);
int emit_image_instance_norm(emit_ctx *e, const ir_node *n);
int emit_image_lrn(emit_ctx *e, const ir_node *n);
int emit_image_mvn(emit_ctx *e, const ir_node *n);
int emit_image_lp_norm(emit_ctx *e, const ir_node *n);

#endif
