// A standalone run of the model in every tier, for working on model.c before
// bmml-host calls it: model_driver [MODEL [BATCH]]. Not installed.
#include <stdio.h>
#include <stdlib.h>

#include "cpu.h"
#include "embed.h"
#include "model.h"

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : model_default_path();
    size_t batch = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    char err[512];
    struct run_config cfg = {.seed = 42, .min_time = 0.2, .max_time = 10, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = ~0u};
    snprintf(cfg.numpy_note, sizeof cfg.numpy_note, "numpy_kernels.py did not import");
    if (embed_start(BMML_SRCDIR "/pyscripts", err, sizeof err) == 0) {
        cfg.python = embed_import("kernels", err, sizeof err) == 0;
        cfg.numpy = embed_import("numpy_kernels", cfg.numpy_note, sizeof cfg.numpy_note) == 0;
    }
    static struct model_result r;
    if (model_run(path, batch, &cfg, &r, err, sizeof err) < 0) {
        fprintf(stderr, "model_driver: %s\n", err);
        return 3;
    }
    model_report_table(stdout, &r);
    if (getenv("MODEL_JSON")) {
        model_report_json(stdout, &r);
        printf("\n");
    }
    embed_stop();
    return 0;
}
