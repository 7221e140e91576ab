/*
 * interp_image.h - reference kernels of the image group (ops_image.c):
 * Resize/Upsample, DepthToSpace/SpaceToDepth, ConvTranspose, LpPool,
 * GlobalLpPool, MaxUnpool, GridSample, RoiAlign and the normalizations.  Signatures
 * are op_def.interp's.  They read the plain attributes the entries' infer
 * wrote (Resize's _mode/_ctm/_nearest/_scales/_roi, the explicit window
 * geometry) and compute in double.
 */
#ifndef MODELC_INTERP_IMAGE_H
#define MODELC_INTERP_IMAGE_H

#include "../interp.h"

#define INTERP_IMAGE_FN(name) \
  int name(struct interp_ctx *c, const ir_node *n, const void *const *in, void *const *out)

INTERP_IMAGE_FN(interp_image_resize);
INTERP_IMAGE_FN(interp_image_depth_to_space);
INTERP_IMAGE_FN(interp_image_space_to_depth);
INTERP_IMAGE_FN(interp_image_conv_transpose);
INTERP_IMAGE_FN(interp_image_lp_pool);
INTERP_IMAGE_FN(interp_image_global_lp_pool);
INTERP_IMAGE_FN(interp_image_max_unpool);
INTERP_IMAGE_FN(interp_image_grid_sample);
INTERP_IMAGE_FN(interp_image_roi_align);
INTERP_IMAGE_FN(interp_image_layer_norm);
INTERP_IMAGE_FN(interp_image_instance_norm);
INTERP_IMAGE_FN(interp_image_lrn);
INTERP_IMAGE_FN(interp_image_mvn);
INTERP_IMAGE_FN(interp_image_lp_norm);

#endif
