// What the two ymm int8 GEMMs share (matmul_i8_avx2.c, matmul_i8_avxvnni.c).
//
// The assembly of their tile(): a 6x16 int32 tile of c in ymm0-11 (row i in
// ymm 2i, 2i+1), the loop over k around the file's own K_STEP, and c's rows
// written in place. Each file's tile() names its asm operands [a], [b], [kg]
// (the units of k), [adds], [c], [c3] and [ldc] (bytes), and defines
//   K_STEP(ao, bo)   one unit of k: a's 6 words at ao bytes on, b's 16 columns
//                    (64 bytes) at bo
// And their small paths' store of a block of rows. Included, so each file
// compiles it with its own flags.
#ifndef BMML_TILE_I8_6X16_H
#define BMML_TILE_I8_6X16_H

#include <immintrin.h>
#include <stdint.h>

// two units of k a turn, then the odd one: kg - 2 per turn ends at -2 or -1
#define TILE_K_LOOP                   \
    "sub $2, %[kg]\n\t"               \
    "jb 3f\n\t"                       \
    "1:\n\t"                          \
    K_STEP(0, 0) K_STEP(24, 64)       \
    "add $48, %[a]\n\t"               \
    "add $128, %[b]\n\t"              \
    "sub $2, %[kg]\n\t"               \
    "jae 1b\n\t"                      \
    "3:\n\t"                          \
    "test $1, %[kg]\n\t"              \
    "jz 4f\n\t"                       \
    K_STEP(0, 0)                      \
    "4:\n\t"

// c's rows, written in place (added to first when adds): rows 0-2 at c + {0,1,2} ldc, rows 3-5 at c3
#define TILE_ROW_ADD(row, x, y)                          \
    "vpaddd (" row "), %%ymm" #x ", %%ymm" #x "\n\t"     \
    "vpaddd 32(" row "), %%ymm" #y ", %%ymm" #y "\n\t"
#define TILE_ROW_SAVE(row, x, y)                         \
    "vmovdqu %%ymm" #x ", (" row ")\n\t"                 \
    "vmovdqu %%ymm" #y ", 32(" row ")\n\t"
#define TILE_ROWS(op)                                                               \
    op("%[c]", 0, 1) op("%[c],%[ldc]", 2, 3) op("%[c],%[ldc],2", 4, 5)                \
    op("%[c3]", 6, 7) op("%[c3],%[ldc]", 8, 9) op("%[c3],%[ldc],2", 10, 11)
#define TILE_STORE                    \
    "test %[adds], %[adds]\n\t"       \
    "jz 2f\n\t"                       \
    TILE_ROWS(TILE_ROW_ADD)           \
    "2:\n\t"                          \
    TILE_ROWS(TILE_ROW_SAVE)

// c (rows, up to 16 columns) = acc, row i in acc[i][0] and, when nv is 2,
// acc[i][1]; with tail, the last vector's columns are those of mask (maskstore
// skips the others); rows, nv and tail are constants where it is inlined
static inline __attribute__((always_inline)) void small_store(int32_t *c, int ldc, __m256i (*acc)[2], int rows,
                                                              int nv, int tail, __m256i mask) {
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        int32_t *ci = c + (size_t)i * ldc;
        if (nv > 1) _mm256_storeu_si256((__m256i *)ci, acc[i][0]), ci += 8;
        __m256i last = acc[i][nv - 1];
        if (tail) _mm256_maskstore_epi32((int *)ci, mask, last);
        else _mm256_storeu_si256((__m256i *)ci, last);
    }
}

#endif
