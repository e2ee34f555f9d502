// A case's memory: its inputs drawn from the seed, their pristine copies, the
// output every tier writes, and the reference it is verified against. Owned
// by C; the Python tiers see the same memory through memoryviews.
#ifndef BMML_BUFFERS_H
#define BMML_BUFFERS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

struct buffers {
    void *in[3], *copy[3]; // inputs and their pristine copies
    size_t in_bytes[3];
    int n_in;
    void *out;
    size_t out_bytes;
    void *ref;   // double (float kernels) or int32 (int8)
    double *bound; // each element's scale of rounding (kernels.h: btol), the fp32 matmul's sum_p |a_ip b_pj|
    // int8 matmul: the float matrices that were quantized, and their scales
    float *fa, *fb, *scale_a, *scale_b;
    unsigned python_holds; // bit 0: out, bit 1 + i: in[i], as a Python call's arguments are
};

// The elements of each input (in) and of the output (out) of kernel at shape
// s: how many inputs (kinds[kind].n_in), or -1 when a count overflows.
int case_elems(const struct kernel *kern, struct shape s, size_t in[3], size_t *out);

// The bytes a case of kernel at shape s needs (inputs, their copies, the
// output, the reference): 0, or -1 when the count overflows.
int buffers_bytes(const struct kernel *kern, struct shape s, size_t *bytes);
// Allocate every buffer (64-byte aligned), fill the inputs from seed and
// compute the reference. 0, or -1 when memory could not be had.
int buffers_new(struct buffers *b, const struct kernel *kern, struct shape s, uint64_t seed);
// Free what no script still reaches (python_holds): that memory is kept
// reachable for the rest of the process instead.
void buffers_free(struct buffers *b);
// free(p), or when held (a script still reaches it: embed_call_free) keep
// it reachable for the rest of the process instead.
void free_unless_held(void *p, int held);

// ||dequantized c - a @ b||_F / ||a @ b||_F with the float a and b that were
// quantized: what int8 costs in accuracy. int8 matmul only.
double quantization_error(struct shape s, const struct buffers *b);

// Fill the output with a pattern no kernel produces by chance, so a tier that
// writes nothing cannot pass on an earlier tier's result.
void poison(const struct buffers *b);
// 1 when no one wrote the inputs since they were filled.
int inputs_intact(const struct buffers *b);
// Put the inputs back as they were filled, after a tier that wrote them, so
// the next tiers are not failed for its damage.
void restore_inputs(const struct buffers *b);

// 1 when out (float32 or int32) passes against ref (double or int32) with the
// kernel's tolerance, bound being the matmul's sum_p |a_ip b_pj| or NULL.
// The largest absolute and relative errors go to abs_err and rel_err, and
// the largest in ulp (ulp_error; NaN and infinite pairs left out, NaN for
// int8) to ulp_err; each may be NULL.
int verify_output(const struct kernel *kern, struct shape s, const void *out, const void *ref,
                  const double *bound, double *abs_err, double *rel_err, double *ulp_err);

// |y - r| in units in the last place of r rounded to float: below FLT_MIN the
// least subnormal, 2^-149; beyond FLT_MAX the ulp of FLT_MAX. r finite.
double ulp_error(float y, double r);

#endif
