// Faulty Python kernels, one small kernels.py each under tests/faulty/, run
// through the real binary: nothing crashes the host, and nothing it reports
// is a lie. Each run measures relu then matmul in the python and scalar
// tiers, so every case shows that the tiers and kernels around the fault
// still run.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "model_files.h"

#define FAULTY BMML_SRCDIR "/tests/faulty"

static char out[1 << 16];  // the host's stdout and stderr
static char json[1 << 16]; // its --json file

static void slurp(const char *path, char *buf, size_t size) {
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

// Run bmml-host on tests/faulty/<dir> (or the path itself when it starts
// with '/') with the options extra adds, the output in out and the JSON in
// json. The exit code.
static int run_case_with(const char *dir, const char *extra) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char path[] = "/tmp/bmml-faulty-XXXXXX", scripts[512], cmd[2048];
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp");
    close(fd);
    snprintf(scripts, sizeof scripts, "%s%s%s", dir[0] == '/' ? "" : FAULTY, dir[0] == '/' ? "" : "/", dir);
    snprintf(cmd, sizeof cmd,
             "timeout 60 '%s' --kernel relu,matmul --size 16 --tiers python,scalar --no-roofline --repetitions 3"
             " --scripts-dir '%s' --json '%s' %s 2>&1",
             host, scripts, path, extra);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    slurp(path, json, sizeof json);
    unlink(path);
    // a sanitizer's report would be a crash the exit code cannot show
    cr_expect(!strstr(out, "Sanitizer") && !strstr(out, "runtime error"), "%s", out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_case(const char *dir) { return run_case_with(dir, ""); }

// The JSON line of one kernel's tier (the reporter writes each benchmark's
// names, status and note on one line), copied into line.
static const char *tier_line(const char *kernel, const char *tier, char *line, size_t size) {
    char key[128];
    snprintf(key, sizeof key, "\"kernel\": \"%s\", \"tier\": \"%s\"", kernel, tier);
    const char *at = strstr(json, key);
    cr_assert_not_null(at, "no %s/%s in the JSON:\n%s\noutput:\n%s", kernel, tier, json, out);
    size_t n = strcspn(at, "\n");
    if (n >= size) n = size - 1;
    memcpy(line, at, n);
    line[n] = '\0';
    return line;
}

// kernel/tier has status, and its note contains note (when not NULL)
static void expect_tier(const char *kernel, const char *tier, const char *status, const char *note) {
    char line[1024], want[64];
    tier_line(kernel, tier, line, sizeof line);
    snprintf(want, sizeof want, "\"status\": \"%s\"", status);
    cr_expect(strstr(line, want) != NULL, "%s/%s is not %s: %s", kernel, tier, status, line);
    if (note) cr_expect(strstr(line, note) != NULL, "%s/%s: the note lacks '%s': %s", kernel, tier, note, line);
}

// the tiers a fault in relu's python tier must leave alone
static void others_ok(void) {
    expect_tier("relu", "scalar", "ok", NULL);
    expect_tier("matmul", "python", "ok", NULL);
    expect_tier("matmul", "scalar", "ok", NULL);
}

Test(faulty, a_missing_scripts_directory_exits_3_and_says_where) {
    cr_expect_eq(run_case("/nonexistent-bmml-scripts"), 3, "%s", out);
    cr_expect(strstr(out, "/nonexistent-bmml-scripts") && strstr(out, "kernels.py"), "%s", out);
}

Test(faulty, a_directory_without_kernels_py_exits_3_and_says_where) {
    cr_expect_eq(run_case("no_kernels"), 3, "%s", out);
    cr_expect(strstr(out, "kernels.py not found") && strstr(out, "faulty/no_kernels"), "%s", out);
}

Test(faulty, a_syntax_error_prints_the_traceback_and_exits_3) {
    cr_expect_eq(run_case("syntax_error"), 3, "%s", out);
    cr_expect(strstr(out, "Traceback") && strstr(out, "syntax_error/kernels.py\", line 4"), "%s", out);
    cr_expect(strstr(out, "SyntaxError"), "%s", out);
}

Test(faulty, a_missing_kernel_is_unavailable_and_the_rest_runs) {
    cr_expect_eq(run_case("missing_kernel"), 0, "%s", out);
    expect_tier("matmul", "python", "unavailable", "defines no function matmul");
    expect_tier("relu", "python", "ok", NULL);
    expect_tier("relu", "scalar", "ok", NULL);
    expect_tier("matmul", "scalar", "ok", NULL);
}

Test(faulty, a_kernel_that_raises_fails_with_the_exception_text) {
    cr_expect_eq(run_case("raises"), 1, "%s", out);
    cr_expect(strstr(out, "Traceback") && strstr(out, "raises/kernels.py"), "the traceback is on stderr: %s", out);
    expect_tier("relu", "python", "failed", "RuntimeError: relu raised on purpose");
    others_ok();
}

Test(faulty, wrong_values_fail_verification) {
    cr_expect_eq(run_case("wrong_values"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "wrong result");
    others_ok();
}

Test(faulty, a_kernel_that_writes_nothing_fails) {
    cr_expect_eq(run_case("writes_nothing"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "wrong result");
    others_ok();
}

Test(faulty, a_kernel_that_returns_its_result_fails_saying_so) {
    cr_expect_eq(run_case("returns_value"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "returned a value (list) instead of None");
    others_ok();
}

// A thread that is not a daemon would make the exit wait for ever: the host
// waits a bounded time, says so, and exits with what the run gave.
Test(faulty, a_thread_left_running_does_not_hold_the_exit, .timeout = 90) {
    cr_expect_eq(run_case("leaves_thread"), 0, "%s", out);
    cr_expect(strstr(out, "thread (sleeper) still runs"), "%s", out);
    expect_tier("relu", "python", "ok", NULL);
    others_ok();
}

// The model's Python pass likewise: right when checked, idle when timed.
Test(faulty, a_model_pass_that_works_only_once_fails_in_its_timed_passes) {
    cr_expect_eq(run_case_with("model_works_once", "--passes 1 --model " BMML_SRCDIR "/models/digits.bmml"), 1, "%s",
                 out);
    expect_tier("model", "python", "failed", "skipped work");
    expect_tier("model", "scalar", "ok", NULL);
}

// Idle attention steps once timed, in a model of one block run in one
// batch: no other step rewrites their buffers, so only a host that poisons
// every buffer a step writes, not only the outputs, sees the skipped work.
Test(faulty, a_model_pass_that_skips_steps_whose_buffers_nothing_rewrites_fails) {
    struct spec s = vit(8, 2, 8, 2, 16, 1, 10, 6);
    char path[32], extra[128];
    cr_assert_eq(write_model(&s, 3, path), 0, "cannot write %s", path);
    snprintf(extra, sizeof extra, "--passes 1 --model %s", path);
    int rc = run_case_with("model_skips_attention", extra);
    unlink(path);
    cr_expect_eq(rc, 1, "%s", out);
    expect_tier("model", "python", "failed", "skipped work");
    expect_tier("model", "scalar", "ok", NULL);
}

// Right at the warm-up, idle in the timed calls: caught with one pass, where
// no later warm-up checks it again.
Test(faulty, a_kernel_that_works_only_once_fails_in_its_timed_calls) {
    cr_expect_eq(run_case_with("works_once", "--passes 1"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "in a timed call");
    others_ok();
}

Test(faulty, sys_exit_does_not_end_the_host) {
    cr_expect_eq(run_case("sys_exit"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "SystemExit: 0");
    others_ok();
}

Test(faulty, system_exit_and_keyboard_interrupt_do_not_end_the_host) {
    cr_expect_eq(run_case("system_exit"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "SystemExit: relu wants out");
    expect_tier("matmul", "python", "failed", "KeyboardInterrupt");
    expect_tier("relu", "scalar", "ok", NULL);
    expect_tier("matmul", "scalar", "ok", NULL);
}

// The host released the view when relu's case ended: writing through it
// raises in Python, and never reaches the freed memory.
Test(faulty, a_kept_view_is_dead_in_the_next_case) {
    cr_expect_eq(run_case("keeps_view"), 1, "%s", out);
    expect_tier("relu", "python", "ok", NULL);
    expect_tier("matmul", "python", "failed", "released memoryview");
    expect_tier("relu", "scalar", "ok", NULL);
    expect_tier("matmul", "scalar", "ok", NULL);
}

// The python tier wrote its input: it fails, and the host puts the input
// back, so the scalar tier after it is measured on the reference's input.
Test(faulty, a_kernel_that_writes_its_input_fails_alone) {
    cr_expect_eq(run_case("writes_input"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "wrote to its input");
    others_ok();
}

// A slice, or a NumPy array, over relu's output outlives the view's release.
// The host must fail relu's tier and never free that memory: the next case's
// write through it lands in memory nobody else uses (under ASan, a use after
// free would end the run with a report run_case rejects).
Test(faulty, a_kept_slice_fails_the_tier_and_never_reaches_freed_memory) {
    cr_expect_eq(run_case("keeps_slice"), 1, "%s", out);
    expect_tier("relu", "python", "failed", "kept out past its call");
    others_ok();
}

Test(faulty, a_kept_numpy_array_fails_the_tier_and_never_reaches_freed_memory) {
    int rc = run_case("keeps_numpy");
    if (strstr(out, "numpy is not installed")) cr_skip_test("numpy is not installed for the embedded Python");
    cr_expect_eq(rc, 1, "%s", out);
    expect_tier("relu", "python", "failed", "kept out past its call");
    others_ok();
}
