/*
 * ops_random.h - what the interpreter and the C backend both need to know
 * about a random node (docs/random.md): its seed, where its optional step
 * input is, and whether a Dropout draws a mask.  These read only the node;
 * the generator itself is implemented once per side (interp_random.c,
 * emit_random.c), so the interpreter stays an independent oracle.
 */
#ifndef MODELC_OPS_RANDOM_H
#define MODELC_OPS_RANDOM_H

#include "op.h"

/* The seed attribute (int, or float truncated toward zero) as uint64, or
 * the FNV-1a 64-bit hash of the node's name when it has none. */
uint64_t ops_random_seed(const ir_node *n);
/* The step input of n (modelc's trailing extension input), NULL when
 * absent: the step is then 0. */
const ir_tensor *ops_random_step(const ir_node *n);
/* Index that step input has (or would have) for n's op. */
int ops_random_step_index(const ir_node *n);
/* 1 when the Dropout n draws a mask (training_mode true, ratio > 0), with
 * the ratio in *ratio (0.5 when the ratio input is absent); 0 when it
 * passes its input through. Assumes n passed validation. */
int ops_dropout_trains(const ir_node *n, double *ratio);
/* 1 when n draws random numbers: a random op or a training Dropout. */
int ops_random_draws(const ir_node *n);

#endif
