/* libFuzzer harness for the generated program's .npy reader: parse_npy of
 * runtime/c/main_template.c, as a compile with --emit-main writes it into OUT/main.c. Built by
 * scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined -I OUT and linked with the
 * other .c files of OUT; main.c's own main is renamed away. Every input must give NPY_OK or an
 * error code, with no sanitizer report and no leak; an accepted array is read whole. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#define main nibble_main
#include "main.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    long shape[8], count, i, elems = 1;
    int rank = 0, k;
    float *x = NULL;
    volatile float sum = 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    if (parse_npy(f, (unsigned long)size, &x, shape, &rank, &count) == NPY_OK) {
        for (k = 0; k < rank; k++) elems *= shape[k];
        if (elems != count || rank < 0 || rank > 8) __builtin_trap();
        for (i = 0; i < count; i++) sum += x[i];
        free(x);
    }
    fclose(f);
    return 0;
}
