// The steadiness controls: the bookkeeping over passes on synthetic figures,
// the warning that names a control that moved, and one real pass.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "controls.h"
#include "cpu.h"
#include "report.h"
#include "warn.h"

// one pass's figures for every control but python, python too when py
static void pass(struct controls *c, double scalar, double simd, double memory, double py) {
    c->passes++;
    controls_record(c, C_SCALAR, scalar);
    controls_record(c, C_SIMD, simd);
    controls_record(c, C_MEMORY, memory);
    if (py > 0) controls_record(c, C_PYTHON, py);
}

Test(controls, spread_and_median_over_passes) {
    struct controls c = {0};
    pass(&c, 1000, 200, 800, 0);
    pass(&c, 1040, 200, 800, 0);
    pass(&c, 1020, 200, 880, 0);
    cr_expect_eq(c.passes, 3);
    cr_expect(!c.present[C_PYTHON], "python was never recorded");
    cr_expect_float_eq(controls_spread(&c, C_SCALAR), 0.04, 1e-12); // 1040 / 1000 - 1
    cr_expect_float_eq(controls_spread(&c, C_SIMD), 0, 1e-12);
    cr_expect_float_eq(controls_median(&c, C_SCALAR), 1020, 1e-12);
    cr_expect_eq(controls_median(&c, C_PYTHON), 0);
    cr_expect_eq(controls_spread(&c, C_PYTHON), 0);
}

Test(controls, one_pass_has_no_spread) {
    struct controls c = {0};
    pass(&c, 1000, 200, 800, 500);
    cr_expect_eq(controls_spread(&c, C_SCALAR), 0);
    cr_expect_eq(controls_warn(&c), 0);
}

Test(controls, a_control_that_moved_is_named_in_a_warning) {
    struct controls c = {0};
    double slower = 1 + 2 * CONTROL_STEADY; // well past the bound
    pass(&c, 1000, 200, 800, 500);
    pass(&c, 1000, 200, 800 * slower, 500);
    pass(&c, 1000, 200, 800, 500);
    cr_expect_eq(controls_warn(&c), 1);
    cr_assert_eq(warn_count(), 1);
    cr_expect(strstr(warn_text(0), "memory control"), "%s", warn_text(0));
    cr_expect(strstr(warn_text(0), "changed state"), "%s", warn_text(0));
}

Test(controls, a_move_within_the_bound_is_not_a_warning) {
    struct controls c = {0};
    pass(&c, 1000, 200, 800, 500);
    pass(&c, 1000 * (1 + CONTROL_STEADY / 2), 200, 800, 500);
    cr_expect_eq(controls_warn(&c), 0);
    cr_expect_eq(warn_count(), 0);
}

Test(controls, no_more_passes_than_the_arrays_hold) {
    struct controls c = {0};
    for (int p = 0; p < MAX_PASSES + 3; p++) controls_pass(&c, 0, 0);
    cr_expect_eq(c.passes, MAX_PASSES);
    controls_free(&c);
}

Test(controls, a_real_pass_times_every_control_but_python_without_it) {
    struct controls c = {0};
    controls_pass(&c, cpu_features(CAP_AVX512), 0);
    controls_free(&c);
    cr_expect(!c.present[C_PYTHON]);
    for (int k = C_SCALAR; k < N_CONTROLS; k++)
        cr_expect(c.present[k] && c.samples_ns[k][0] > 0, "%s: %g", control_names[k], c.samples_ns[k][0]);
    cr_expect(c.isa[C_SIMD], "the SIMD control names its loop");
}

Test(controls, the_header_and_the_json_carry_every_pass) {
    struct controls c = {0};
    pass(&c, 1000, 200, 800, 0);
    pass(&c, 1080, 200, 800, 0);
    char line[512];
    controls_str(&c, line, sizeof line);
    cr_expect(strstr(line, "scalar 1.04 us (8.0%)"), "%s", line);
    cr_expect(!strstr(line, "python"), "%s", line);
    cr_expect(line[strlen("controls, median of 2 passes (moved between passes):")] == ' ', "%s", line);

    struct context ctx = {0};
    ctx.controls = &c;
    char path[] = "/tmp/bmml-controls-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(report_json(path, &ctx, NULL, 0), 0);
    FILE *f = fopen(path, "r");
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    cr_expect(strstr(text, "\"scalar\": {\"samples_ns\": [1000, 1080], \"spread\": 0.08"), "%s", text);
    cr_expect(strstr(text, "\"steady_below\": "), "%s", text);
}
