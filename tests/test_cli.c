// Options: what is accepted, what is refused with exit code 2, and the binary's
// own answers to bad input.
#define _GNU_SOURCE // sched_getaffinity
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"
#include "cpu.h"
#include "config.h"
#include "cpu.h"
#include "interrupt.h"
#include "json_read.h"
#include "kernels.h"

static struct options o;
static char err[512];

// parse("--size", "7"): the arguments after the program name
static int parse_argv(char **argv) {
    int argc = 0;
    while (argv[argc]) argc++;
    err[0] = '\0';
    return cli_parse(&o, argc, argv, err, sizeof err);
}
#define parse(...) parse_argv((char *[]){"bmml-host", __VA_ARGS__, NULL})

Test(cli, defaults) {
    cr_assert_eq(parse_argv((char *[]){"bmml-host", NULL}), 0, "%s", err);
    cr_expect_eq(o.n_kernel, 0, "no selection means every kernel");
    cr_expect_eq(o.tiers, (1u << N_TIERS) - 1);
    cr_expect_eq(o.seed, 42);
    cr_expect_eq(o.min_time, 0.2);
    cr_expect_eq(o.max_isa, CAP_AVX512);
    cr_expect_eq(o.passes, 3);
}

Test(cli, selections_parse) {
    cr_assert_eq(parse("--kernel", "gelu,matmul", "--tiers", "python,avx2", "--size", "100", "--quick"), 0, "%s", err);
    cr_expect_eq(o.n_kernel, 2);
    cr_expect_str_eq(kernels[o.kernel[0]].name, "gelu");
    cr_expect_str_eq(kernels[o.kernel[1]].name, "matmul");
    cr_expect_eq(o.tiers, (1u << T_PYTHON) | (1u << T_AVX2));
    cr_expect_eq(o.size.n, 100);
    cr_expect_eq(o.min_time, 0.02, "--quick shortens the timing");
}

Test(cli, matmul_shape_parses) {
    cr_assert_eq(parse("--kernel", "matmul_int8", "--size", "7x13x5"), 0, "%s", err);
    cr_expect_eq(o.size.m, 7);
    cr_expect_eq(o.size.n, 13);
    cr_expect_eq(o.size.k, 5);
}

Test(cli, max_isa_and_times_parse) {
    cr_assert_eq(parse("--max-isa", "scalar", "--min-time", "0.5", "--max-time", "3", "--seed=7"), 0, "%s", err);
    cr_expect_eq(o.max_isa, CAP_SCALAR);
    cr_expect_eq(o.min_time, 0.5);
    cr_expect_eq(o.max_time, 3.0);
    cr_expect_eq(o.seed, 7);
    cr_assert_eq(parse("--passes", "1"), 0, "%s", err);
    cr_expect_eq(o.passes, 1);
    cr_assert_eq(parse("--passes=7"), 0, "%s", err);
    cr_expect_eq(o.passes, 7);
}

// Each bad input is refused with 2 and a message naming what was wrong.
static void refused(const char *what, int rc) {
    cr_expect_eq(rc, 2, "%s: accepted", what);
    cr_expect(strstr(err, what) != NULL, "message '%s' does not name '%s'", err, what);
}

Test(cli, bad_values_are_refused_by_name) {
    refused("--bogus", parse("--bogus"));
    refused("conv2d", parse("--kernel", "conv2d"));
    refused("--kernel", parse("--kernel", ""));
    refused("--kernel", parse("--kernel", ",,"));
    refused("gpu", parse("--tiers", "avx2,gpu"));
    refused("0", parse("--size", "0"));
    refused("-5", parse("--size", "-5"));
    refused("12abc", parse("--size", "12abc"));
    refused("abc", parse("--size", "abc"));
    refused("99999999999999999999999", parse("--size", "99999999999999999999999"));
    refused("3x4", parse("--kernel", "matmul", "--size", "3x4"));
    refused("MxNxK", parse("--kernel", "relu", "--size", "3x4x5"));
    refused("avx1024", parse("--max-isa", "avx1024"));
    refused("--min-time", parse("--min-time", "0"));
    refused("--max-time", parse("--max-time", "nan"));
    refused("--seed", parse("--seed", "-1"));
    refused("--passes", parse("--passes", "0"));
    refused("--passes", parse("--passes", "8"));
    refused("--passes", parse("--passes", "2x"));
    refused("--json", parse("--json"));
    refused("--compare", parse("--compare", "old.json"));
    refused("--report", parse("--report", ""));
    refused("stray", parse("stray"));
    refused("--scripts-dir", parse("--scripts-dir", ""));
}

// Found by tests/fuzz: the message named the wrong argument or the wrong fault.
Test(cli, messages_name_the_argument_at_fault) {
    cr_expect_eq(parse("-x"), 2);
    cr_expect_str_eq(err, "unknown option '-x'", "an unknown short option is unknown, not one given a value");
    cr_expect_eq(parse("--quick", "-abc"), 2);
    cr_expect_str_eq(err, "unknown option '-abc'");
    cr_expect_eq(parse("--all=1"), 2);
    cr_expect_str_eq(err, "option '--all=1' takes no value");
    // getopt used to move 'stray' behind '--bogus' and name it as the unknown option
    cr_expect_eq(parse("stray", "--bogus"), 2);
    cr_expect_str_eq(err, "unexpected argument 'stray'");
}

// cli_parse resets getopt (optind = 0): a parse that stopped half-way through
// a cluster of short options, or on an error, must not leak into the next.
Test(cli, repeated_parses_start_afresh) {
    cr_expect_eq(parse("-abc"), 2);
    cr_assert_eq(parse("--kernel", "relu", "--size", "9"), 0, "%s", err);
    cr_expect_eq(o.n_kernel, 1);
    cr_expect_eq(o.size.n, 9);
    cr_expect_eq(parse("--kernel"), 2);
    cr_assert_eq(parse("--quick"), 0, "%s", err);
    cr_expect_eq(o.n_kernel, 0, "nothing of the earlier parses is left");
    cr_expect_eq(o.quick, 1);
}

// ---------------------------------------------------------------------------
// the binary itself

// cmd's exit code, its output in out
static int run_shell(const char *cmd, char *out, size_t size) {
    if (!getenv("BMML_HOST")) cr_skip_test("BMML_HOST is not set (make check sets it)");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(const char *args, char *out, size_t size) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char cmd[1024];
    // a hang fails the test and ends (Criterion's .timeout would leave the host running)
    snprintf(cmd, sizeof cmd, "timeout -k 5 60 '%s' %s 2>&1", host, args);
    return run_shell(cmd, out, size);
}

static char out[1 << 16];

Test(host, bad_input_exits_2_with_a_pointer_to_help) {
    cr_expect_eq(run("--kernel nope", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "unknown kernel 'nope'") && strstr(out, "--help"), "%s", out);
    cr_expect_eq(run("--size 0", out, sizeof out), 2, "%s", out);
    cr_expect_eq(run("--kernel matmul --size 100000000", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "GiB"), "says how much memory it would need: %s", out);
    cr_expect_eq(run("--quick --json /nonexistent-dir/r.json", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "/nonexistent-dir/r.json"), "%s", out);
}

Test(host, report_compare_and_sweep_refuse_bad_input) {
    cr_expect_eq(run("--quick --report /nonexistent-dir/sub/rep", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "/nonexistent-dir/sub/rep"), "%s", out);
    cr_expect_eq(run("--sweep --size 100", out, sizeof out), 2, "%s", out);
    cr_expect_eq(run("--cpu 1000 --quick", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "--cpu 1000"), "%s", out);
    cr_expect_eq(run("--compare /nonexistent-a.json /nonexistent-b.json", out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "/nonexistent-a.json"), "%s", out);
}

Test(host, compare_reads_what_the_host_writes, .timeout = 60) {
    char path[] = "/tmp/bmml-compare-XXXXXX.json", cmd[512];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd, "--quick --quiet --no-roofline --kernel relu --tiers python,scalar --model '%s/models/digits.bmml' --json %s",
             BMML_SRCDIR, path);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "--compare %s %s", path, path);
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "relu") && strstr(out, "fp32/batch360") && strstr(out, "int8/batch360"), "%s", out);
    cr_expect(strstr(out, "0 faster, 0 slower"), "a run compared with itself changes nothing: %s", out);
    remove(path);
}

Test(host, a_missing_numpy_tier_is_unavailable_not_an_error) {
    // this scripts directory has kernels.py but no numpy_kernels.py: the same
    // path as an interpreter without NumPy, whose import fails
    char cmd[512];
    snprintf(cmd, sizeof cmd, "--kernel relu --size 1000 --tiers numpy,scalar --no-roofline --quiet --scripts-dir '%s/tests/scripts/slow'",
             BMML_SRCDIR);
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "numpy") && strstr(out, "numpy_kernels"), "the row says why: %s", out);
    cr_expect(strstr(out, "ok, max err 0"), "the other tiers run: %s", out);
}

Test(host, help_and_version) {
    cr_expect_eq(run("--help", out, sizeof out), 0);
    cr_expect(strstr(out, "--max-isa") && strstr(out, "--json"), "%s", out);
    cr_expect(strstr(out, "An ignored SIGINT stays ignored") && strstr(out, "use SIGTERM"), "%s", out);
    cr_expect_eq(run("--version", out, sizeof out), 0);
    cr_expect(strstr(out, PACKAGE_VERSION), "%s", out);
}

Test(host, missing_scripts_exit_3_and_say_where) {
    cr_expect_eq(run("--quick --kernel relu --scripts-dir /nonexistent-scripts", out, sizeof out), 3, "%s", out);
    cr_expect(strstr(out, "/nonexistent-scripts"), "%s", out);
}

// Run the host with cmd, which names path as its --json, and return what it wrote
// (removed after): the run must exit 0.
static const char *run_for_json(const char *cmd, const char *path) {
    static char json[1 << 16];
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    json[fread(json, 1, sizeof json - 1, f)] = '\0';
    fclose(f);
    remove(path);
    return json;
}

// How often needle occurs in s (a benchmark entry's "repetitions": N is
// followed by ", " on its line; the context's, by the end of the line).
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++) n++;
    return n;
}

// Every JSON entry of a tier in `tiers` has the status `status` (an entry's
// tier and status stand on one line of the JSON).
static int entries_have_status(const char *json, const char *const *tiers, int n, const char *status) {
    int seen = 0;
    for (const char *line = json; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t len = strcspn(line, "\n");
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        for (int i = 0; i < n; i++) {
            char key[64];
            snprintf(key, sizeof key, "\"tier\": \"%s\"", tiers[i]);
            if (!strstr(buf, key)) continue;
            seen++;
            if (!strstr(buf, status)) return -1;
        }
    }
    return seen;
}

// One test per SIMD tier (int *t, an enum tier): a tier this build lacks is
// "not built", not "excluded", so its test is skipped rather than passed.
ParameterizedTestParameters(host, max_isa_scalar_excludes_a_simd_tier) {
    static int tier[] = {T_AUTOVEC, T_AVX2, T_AVX512};
    return cr_make_param_array(int, tier, sizeof tier / sizeof *tier);
}

ParameterizedTest(int *t, host, max_isa_scalar_excludes_a_simd_tier) {
    enum pick why;
    variant_pick(kernel_find("relu"), *t, ~0u, &why, NULL, 0);
    if (why == PICK_NOT_BUILT) cr_skip_test("%s: not built (the compiler lacks the flags for it)", tier_names[*t]);
    char path[] = "/tmp/bmml-maxisa-XXXXXX.json", cmd[256];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd, "--quick --quiet --no-roofline --kernel relu,matmul_int8 --max-isa scalar "
             "--tiers scalar,%s --json %s", tier_names[*t], path);
    const char *json = run_for_json(cmd, path);
    const char *const simd[] = {tier_names[*t]}, *const scalar[] = {"scalar"};
    cr_expect_eq(entries_have_status(json, simd, 1, "\"status\": \"unavailable\", \"note\": \"excluded by --max-isa\""), 2,
                 "%s of both kernels excluded: %s", tier_names[*t], json);
    cr_expect_eq(entries_have_status(json, scalar, 1, "\"status\": \"ok\""), 2, "the scalar tier ran: %s", json);
}

// The blas tier where configure found OpenBLAS: it runs and says which core
// OpenBLAS chose; where it did not (CI builds one such tree, configured
// --without-openblas): the row is unavailable and says why, and the run still
// succeeds.
Test(host, the_blas_tier_runs_or_is_unavailable_not_an_error) {
    char path[] = "/tmp/bmml-blas-XXXXXX.json", cmd[256];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd, "--quiet --no-roofline --kernel matmul --size 16 --tiers scalar,blas --json %s", path);
    const char *json = run_for_json(cmd, path);
    static const char *const blas[] = {"blas"};
#if HAVE_OPENBLAS
    cr_expect_eq(entries_have_status(json, blas, 1, "\"status\": \"ok\""), 1, "blas ran: %s", json);
    cr_expect(!strstr(json, "\"openblas_core\": null"), "the context names the core OpenBLAS chose: %s", json);
#else
    cr_expect_eq(entries_have_status(json, blas, 1, "\"status\": \"unavailable\""), 1, "blas unavailable: %s", json);
    cr_expect(strstr(out, "configure found no OpenBLAS"), "the row says why: %s", out);
#endif
}

// oneDNN's GEMMs on an odd shape that crosses its blocks: verified as every tier
// (int8 exact), or unavailable with the reason: never an error.
Test(host, the_onednn_tier_runs_or_is_unavailable_not_an_error) {
    char path[] = "/tmp/bmml-onednn-XXXXXX.json", cmd[256];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd,
             "--quiet --no-roofline --kernel matmul,matmul_int8 --size 37x29x1100 --tiers scalar,onednn --json %s", path);
    const char *json = run_for_json(cmd, path);
    static const char *const onednn[] = {"onednn"};
    cr_expect_eq(count(json, "\"tier\": \"onednn\""), 2, "%s", json);
#if HAVE_ONEDNN
    if (cpu_features(CAP_AVX512) & (CPU_AVX512VNNI | CPU_AVXVNNI)) {
        cr_expect_eq(entries_have_status(json, onednn, 1, "\"status\": \"ok\""), 2, "both ran, verified: %s", json);
    } else {
        cr_expect(strstr(out, "may saturate"), "int8 left out where it may saturate: %s", out);
    }
    cr_expect(!strstr(json, "\"onednn_version\": null"), "the context names oneDNN: %s", json);
#else
    cr_expect_eq(entries_have_status(json, onednn, 1, "\"status\": \"unavailable\""), 2, "%s", json);
    cr_expect(strstr(out, "configure found no oneDNN"), "the row says why: %s", out);
#endif
    snprintf(cmd, sizeof cmd, "--quiet --no-roofline --kernel relu,layernorm --size 100 --tiers scalar,onednn --json %s",
             path);
    json = run_for_json(cmd, path);
    cr_expect_eq(count(json, "\"tier\": \"onednn\""), 0, "its GEMMs only: %s", json);
}

// The repetitions of each case are split over the passes and add up: 7 in 3
// passes (2, 2, 3); with fewer repetitions than passes, as many passes as
// repetitions. A Python sample past --max-time ends its series for good:
// later passes do not take it up again.
Test(host, passes_split_the_repetitions_and_keep_a_python_series_ended) {
    char path[] = "/tmp/bmml-passes-XXXXXX.json", cmd[256];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd, "--quiet --no-roofline --kernel relu --size 1000 --tiers python,scalar --repetitions 7 "
             "--passes 3 --json %s", path);
    const char *json = run_for_json(cmd, path);
    cr_expect(strstr(json, "\"passes\": 3"), "%s", json);
    cr_expect_eq(count(json, "\"repetitions\": 7, "), 2, "7 repetitions a tier: %s", json);

    snprintf(cmd, sizeof cmd, "--quiet --no-roofline --kernel relu --size 1000 --tiers scalar --repetitions 2 "
             "--passes 3 --json %s", path);
    json = run_for_json(cmd, path);
    cr_expect(strstr(json, "\"passes\": 2"), "%s", json);
    cr_expect_eq(count(json, "\"repetitions\": 2, "), 1, "%s", json);

    // relu of 100000 in Python takes milliseconds, far past 0.0001 s
    snprintf(cmd, sizeof cmd, "--quiet --no-roofline --kernel relu --size 100000 --tiers python --max-time 0.0001 "
             "--passes 3 --json %s", path);
    json = run_for_json(cmd, path);
    cr_expect_eq(count(json, "\"repetitions\": 1, "), 1, "one repetition, not one a pass: %s", json);
    cr_expect(strstr(json, "1 repetition: one took longer than --max-time"), "%s", json);
}

// Inputs that would block or never end are refused before anything is read,
// each naming the file and what it is (timeout: a hang fails, and ends).
Test(host, a_fifo_directory_device_or_huge_file_is_refused_at_once, .timeout = 60) {
    char fifo[64] = "/tmp/bmml-fifo-XXXXXX", huge[] = "/tmp/bmml-huge-XXXXXX.json", cmd[512]; // fifo: room for "/in"
    cr_assert(mkdtemp(fifo));
    strcat(fifo, "/in");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    int fd = mkstemps(huge, 5);
    cr_assert(fd >= 0 && ftruncate(fd, (off_t)JSON_MAX_FILE + 1) == 0, "a sparse file one byte too large");
    close(fd);
    static const struct {
        const char *args, *why;
        int rc, file; // %s is 1: the FIFO, 2: the huge file
    } cases[] = {
        {"--model %s --no-roofline --quiet", "a FIFO, not a file", 3, 1},
        {"--model /tmp --no-roofline --quiet", "/tmp: a directory, not a file", 3, 0},
        {"--compare %s /dev/null", "a FIFO, not a file", 2, 1},
        {"--compare /dev/zero /dev/null", "/dev/zero: a device, not a file", 2, 0},
        {"--compare /tmp /dev/null", "/tmp: a directory, not a file", 2, 0},
        {"--compare %s /dev/null", "more than the 256 MiB allowed", 2, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char args[256];
        snprintf(args, sizeof args, cases[i].args, cases[i].file == 1 ? fifo : huge);
        snprintf(cmd, sizeof cmd, "timeout 10 '%s' %s 2>&1", getenv("BMML_HOST") ? getenv("BMML_HOST") : "", args);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = run_shell(cmd, out, sizeof out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        cr_expect_eq(rc, cases[i].rc, "%s: %s", args, out);
        cr_expect(strstr(out, cases[i].why), "%s: %s", args, out);
        cr_expect_lt(took, 3.0, "%s took %.1f s (a second, with slack for a busy machine)", args, took);
    }
    remove(huge);
    remove(fifo);
    *strrchr(fifo, '/') = '\0';
    rmdir(fifo);
}

// Start the host with argv, its output to /dev/null, as from a terminal: make
// check may run as a background job of a shell, which ignores SIGINT, and the
// host keeps an ignored SIGINT ignored. It is killed when this process ends,
// so a failed assertion or Criterion's .timeout never leaves it behind.
static pid_t spawn_host(char *const argv[]) {
    pid_t parent = getpid(), pid = fork();
    cr_assert_geq(pid, 0, "fork");
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1), dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

// A host left sleeping by a test that failed half-way is gone as soon as the
// test's process ends: here a child starts one and exits at once.
Test(host, a_test_that_ends_early_leaves_no_host_behind, .timeout = 30) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/scripts/slow", BMML_SRCDIR);
    char *argv[] = {(char *)host, "--kernel", "matmul", "--tiers", "python", "--size", "100", "--no-roofline",
                    "--scripts-dir", dir, NULL};
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t test = fork();
    cr_assert_geq(test, 0, "fork");
    if (test == 0) {
        pid_t pid = spawn_host(argv);
        _exit(write(fd[1], &pid, sizeof pid) == sizeof pid ? 1 : 2); // as a failed assertion ends a test
    }
    pid_t pid = 0;
    cr_assert_eq(read(fd[0], &pid, sizeof pid), (ssize_t)sizeof pid);
    waitpid(test, NULL, 0);
    // gone, or a zombie waiting for init to reap it
    int alive = 1;
    for (int i = 0; i < 200 && alive; i++) {
        char path[64], stat[256] = "";
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (f) stat[fread(stat, 1, sizeof stat - 1, f)] = '\0', fclose(f);
        const char *state = strrchr(stat, ')');
        alive = f && state && state[2] != 'Z' && state[2] != 'X';
        if (alive) usleep(10 * 1000);
    }
    if (alive) kill(pid, SIGKILL);
    cr_expect(!alive, "the host %d outlived the test that started it", (int)pid);
}

// Start the host on a long run, send sig after a moment, return its exit code.
// signals: how many, a tenth of a second apart; scripts: under tests/scripts;
// within: the seconds it may take to stop after the first.
static int interrupted_run_in(const char *scripts, int sig, int signals, double within, const char *kernel_list,
                              const char *tiers, const char *passes, const char *json) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/scripts/%s", BMML_SRCDIR, scripts);
    char *argv[] = {(char *)host, "--kernel", (char *)kernel_list, "--tiers", (char *)tiers, "--size", "100",
                    "--passes", (char *)passes, "--no-roofline", "--scripts-dir", dir, "--json", (char *)json, NULL};
    char marker[64];
    snprintf(marker, sizeof marker, "/tmp/bmml-marker-%d-%d", (int)getpid(), sig);
    remove(marker);
    setenv("BMML_TEST_MARKER", marker, 1);
    pid_t pid = spawn_host(argv);
    // wait until the sleeping twin says it runs (start-up is slow on a busy machine)
    for (int i = 0; i < 300 && access(marker, F_OK) != 0; i++) usleep(100 * 1000);
    cr_assert_eq(access(marker, F_OK), 0, "the Python matmul never started"); // spawn_host: the host ends with us
    remove(marker);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < signals; i++) {
        if (i) usleep(100 * 1000);
        kill(pid, sig);
    }
    int st = 0;
    pid_t done = 0;
    // wait at most twice the time allowed, then end the host rather than leave it behind
    for (int i = 0; i < 200 * within && (done = waitpid(pid, &st, WNOHANG)) == 0; i++) usleep(10 * 1000);
    if (done != pid) kill(pid, SIGKILL), waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    cr_expect(waited < within, "took %.2f s to stop (at most %.1f s allowed)", waited, within);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int interrupted_run_of(int sig, const char *kernel_list, const char *tiers, const char *passes, const char *json) {
    // a second, with slack for a busy machine
    return interrupted_run_in("slow", sig, 1, 2.0, kernel_list, tiers, passes, json);
}

// relu finishes at once; the matmul twin sleeps until it is interrupted
static int interrupted_run(int sig, const char *json) {
    return interrupted_run_of(sig, "relu,matmul", "scalar,python", "3", json);
}

static void check_partial_json(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "the report was written");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    cr_expect(strstr(out, "\"partial\": true"), "%s", out);
    cr_expect(strstr(out, "\"name\": \"relu/scalar/100\""), "what finished is reported: %s", out);
    cr_expect(strstr(out, "\"status\": \"interrupted\""), "%s", out);
    remove(path);
}

Test(host, sigint_stops_within_a_run_reports_partial_and_exits_130, .timeout = 30) {
    char path[] = "/tmp/bmml-sigint-XXXXXX.json";
    close(mkstemps(path, 5));
    cr_expect_eq(interrupted_run(SIGINT, path), 130);
    check_partial_json(path);
}

// The gelu twin runs in the first pass and sleeps in the second: the signal
// stops that pass, and what the first measured still stands.
Test(host, a_signal_in_a_later_pass_keeps_what_the_earlier_ones_measured, .timeout = 30) {
    char path[] = "/tmp/bmml-pass2-XXXXXX.json";
    close(mkstemps(path, 5));
    cr_expect_eq(interrupted_run_of(SIGINT, "relu,gelu", "python", "2", path), 130);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "the report was written");
    out[fread(out, 1, sizeof out - 1, f)] = '\0';
    fclose(f);
    remove(path);
    cr_expect(strstr(out, "\"partial\": true"), "%s", out);
    const char *gelu = strstr(out, "\"name\": \"gelu/python/100\"");
    cr_assert(gelu, "gelu is reported: %s", out);
    cr_expect(!strstr(out, "\"status\": \"interrupted\""), "no tier lost to the signal: %s", out);
    cr_expect(strstr(gelu, "signal 2 stopped the rest"), "its row says why it has fewer: %s", gelu);
}

// The matmul twin swallows every KeyboardInterrupt: the grace after the
// first signal, or a second signal, stops it all the same, and what finished
// is written.
Test(host, a_kernel_that_swallows_keyboard_interrupt_stops_after_the_grace, .timeout = 30) {
    char path[] = "/tmp/bmml-swallow-XXXXXX.json";
    close(mkstemps(path, 5));
    cr_expect_eq(interrupted_run_in("swallows", SIGINT, 1, INTERRUPT_GRACE_S + 2.0, "relu,matmul", "scalar,python", "1",
                                    path), 130);
    check_partial_json(path);
}

Test(host, a_second_signal_stops_a_kernel_that_swallows_the_first, .timeout = 30) {
    char path[] = "/tmp/bmml-swallow2-XXXXXX.json";
    close(mkstemps(path, 5));
    cr_expect_eq(interrupted_run_in("swallows", SIGTERM, 2, 2.0, "relu,matmul", "scalar,python", "1", path), 143);
    check_partial_json(path);
}

Test(host, sigterm_exits_143, .timeout = 30) {
    char path[] = "/tmp/bmml-sigterm-XXXXXX.json";
    close(mkstemps(path, 5));
    cr_expect_eq(interrupted_run(SIGTERM, path), 143);
    check_partial_json(path);
}

Test(host, model_runs_in_every_tier_and_a_bad_model_file_exits_3) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "--model '%s/models/digits.bmml' --tiers python,scalar --no-roofline --quiet", BMML_SRCDIR);
    cr_expect_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "python   fp32") && strstr(out, "scalar   int8"), "%s", out);
    char path[] = "/tmp/bmml-badmodel-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "BMML\x01", 5), 5); // the magic, then nothing
    close(fd);
    snprintf(cmd, sizeof cmd, "--model %s --tiers scalar --no-roofline --quiet", path);
    cr_expect_eq(run(cmd, out, sizeof out), 3, "%s", out);
    cr_expect(strstr(out, path), "the error names the file: %s", out);
    remove(path);
}

// --blas-core's name goes into the environment: letters and digits only.
Test(cli, blas_core_takes_a_core_name_or_auto) {
    cr_expect_eq(parse("--kernel", "matmul"), 0);
    cr_expect_null(o.blas_core, "the environment's core unless asked");
    cr_expect_eq(parse("--blas-core", "SkylakeX"), 0, "%s", err);
    cr_expect_str_eq(o.blas_core, "SkylakeX");
    cr_expect_eq(parse("--blas-core", "auto"), 0, "%s", err);
    cr_expect_str_eq(o.blas_core, "auto");
    refused("--blas-core", parse("--blas-core", ""));
    refused("a;b", parse("--blas-core", "a;b"));
    refused("Sky lake", parse("--blas-core", "Sky lake"));
}

// ---------------------------------------------------------------------------
// What README promises, end to end

// The JSON file at path, parsed; the file removed.
static struct json *read_doc(const char *path) {
    char jerr[256];
    struct json *doc = json_parse_file(path, jerr, sizeof jerr);
    remove(path);
    cr_assert_not_null(doc, "%s", jerr);
    return doc;
}

// Run the host with args, in which %s stands for a temporary --json file; it
// must exit 0. The JSON it wrote, parsed.
static struct json *run_doc(const char *args) {
    char path[] = "/tmp/bmml-doc-XXXXXX.json", cmd[768];
    close(mkstemps(path, 5));
    snprintf(cmd, sizeof cmd, args, path);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    return read_doc(path);
}

static const struct json *entry(const struct json *doc, const char *name) {
    const struct json *b = json_get(doc, "benchmarks");
    for (size_t i = 0; b && i < b->n; i++)
        if (json_string(json_get(&b->items[i], "name")) && strcmp(json_string(json_get(&b->items[i], "name")), name) == 0)
            return &b->items[i];
    cr_assert_fail("no entry %s", name);
    return NULL;
}

static const char *str_of(const struct json *e, const char *key) {
    const char *s = json_string(json_get(e, key));
    return s ? s : "(not a string)";
}

// --max-isa avx2: what a CPU without AVX-512 gets. The avx2 tier runs the
// variant such a CPU would (AVX-VNNI for int8 where there is one), avx512 is excluded.
Test(host, max_isa_avx2_runs_avx2_and_excludes_avx512) {
    unsigned have = cpu_features(CAP_AVX512);
    enum pick why2, why512;
    variant_pick(kernel_find("relu"), T_AVX2, have, &why2, NULL, 0);
    variant_pick(kernel_find("relu"), T_AVX512, ~0u, &why512, NULL, 0);
    if (why2 != PICK_OK) cr_skip_test("this CPU or build has no avx2 tier");
    if (why512 == PICK_NOT_BUILT) cr_skip_test("avx512: not built (the compiler lacks the flags for it)");
    struct json *doc = run_doc("--quick --quiet --no-roofline --kernel relu,matmul_int8 --size 64 --max-isa avx2 "
                               "--tiers avx2,avx512 --json %s");
    static const char *const names[][2] = {{"relu", "64"}, {"matmul_int8", "64x64x64"}};
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s/avx2/%s", names[i][0], names[i][1]);
        const struct json *e = entry(doc, name);
        const struct variant *v = variant_pick(kernel_find(names[i][0]), T_AVX2, cpu_features(CAP_AVX2), NULL, NULL, 0);
        cr_expect_str_eq(str_of(e, "status"), "ok", "%s: %s", name, str_of(e, "note"));
        cr_expect_str_eq(str_of(e, "isa"), v->isa, "%s", name);
        snprintf(name, sizeof name, "%s/avx512/%s", names[i][0], names[i][1]);
        e = entry(doc, name);
        cr_expect_str_eq(str_of(e, "status"), "unavailable", "%s", name);
        cr_expect_str_eq(str_of(e, "note"), "excluded by --max-isa", "%s", name);
    }
    json_free(doc);
}

// --threads 2: the MatMuls' roof is one core's peak times the threads.
Test(host, threads_2_holds_the_matmuls_to_twice_one_cores_peak, .timeout = 120) {
    struct json *doc = run_doc("--quick --quiet --kernel matmul,matmul_int8 --size 64 --tiers scalar,avx2,avx512 "
                               "--threads 2 --json %s");
    const struct json *ctx = json_get(doc, "context"), *roof = json_get(ctx, "roofline");
    cr_expect_eq(json_number(json_get(ctx, "threads"), 0), 2);
    double fma = json_number(json_get(roof, "fma_avx512_gflops"), 0);
    if (!(fma > 0)) fma = json_number(json_get(roof, "fma_avx2_gflops"), 0);
    // int8's: the faster VNNI peak (roofline_int8); both are in the context, null where not measured
    cr_expect(json_get(roof, "vnni_avx512_gops") && json_get(roof, "vnni_avxvnni_gops"), "the two VNNI peaks");
    double vnni = fmax(json_number(json_get(roof, "vnni_avx512_gops"), 0), json_number(json_get(roof, "vnni_avxvnni_gops"), 0));
    const struct json *b = json_get(doc, "benchmarks");
    int checked = 0;
    for (size_t i = 0; b && i < b->n; i++) {
        const struct json *e = &b->items[i];
        double pct = json_number(json_get(e, "pct_of_roof"), -1);
        if (pct < 0) continue; // no roof for this kind of work on this CPU
        int int8 = strcmp(str_of(e, "kernel"), "matmul_int8") == 0;
        double rate = json_number(json_get(e, int8 ? "gops" : "gflops"), 0), peak = int8 ? vnni : fma;
        cr_expect(fabs(pct - 100 * rate / (2 * peak)) <= 1e-6 * pct, "%s: %g%% of the roof; %g over 2 x %g is %g%%",
                  str_of(e, "name"), pct, rate, peak, 100 * rate / (2 * peak));
        checked++;
    }
    cr_expect_geq(checked, 3, "every tier of the fp32 MatMul has a share of its roof");
    json_free(doc);
}

// --sweep: every size of the range, the Python tier left out, saying so, where
// one repetition would pass --max-time; a scaling chart beside the report.
Test(host, sweep_runs_the_range_and_leaves_python_out_past_max_time, .timeout = 120) {
    char dir[] = "/tmp/bmml-sweep-XXXXXX", cmd[512], path[600];
    cr_assert(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "--sweep --kernel relu --tiers python --quick --no-roofline --max-time 0.01 --report %s",
             dir);
    snprintf(path, sizeof path, "%s/scaling.svg", dir);
    cr_assert_eq(run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect_eq(access(path, F_OK), 0, "a scaling chart: %s", path);
    cr_expect(strstr(out, "left out of the sweep"), "the table says so: %s", out);
    snprintf(path, sizeof path, "%s/results.json", dir);
    struct json *doc = read_doc(path);
    static const char *const sizes[] = {"1000", "3000", "10000", "30000", "100000", "300000", "1000000", "3000000",
                                        "10000000"};
    int predicted = 0; // notes giving a time: only the first size left out has its own prediction
    for (int i = 0; i < 9; i++) {
        char name[64];
        snprintf(name, sizeof name, "relu/python/%s", sizes[i]);
        const struct json *e = entry(doc, name); // every size of the range is reported
        const char *note = str_of(e, "note");
        predicted += note && strstr(note, "left out of the sweep") && strstr(note, " s, past");
    }
    cr_expect_eq(predicted, 1, "one size left out with a prediction, the later ones saying a smaller size was past it");
    cr_expect_str_eq(str_of(entry(doc, "relu/python/1000"), "status"), "ok");
    const struct json *big = entry(doc, "relu/python/10000000");
    cr_expect_str_eq(str_of(big, "status"), "unavailable");
    cr_expect(strstr(str_of(big, "note"), "left out of the sweep") && strstr(str_of(big, "note"), "--max-time"), "%s",
              str_of(big, "note"));
    json_free(doc);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

// --list: each kernel by tier, each native cell what variant_pick says of this CPU.
Test(host, list_shows_what_each_tier_can_run_here) {
    cr_assert_eq(run("--list", out, sizeof out), 0, "%s", out);
    static const char *const marks[] = {[PICK_OK] = "yes", [PICK_NOT_BUILT] = "not-built", [PICK_MAX_ISA] = "max-isa",
                                        [PICK_NO_CPU] = "no-cpu"};
    for (int i = 0; i < n_kernels; i++) {
        char want[256] = "", *at = want;
        at += sprintf(at, "%-12s yes      ", kernels[i].name); // the python tier
        const char *line = strstr(out, want);
        cr_assert(line, "no row for %s with the Python tier: %s", kernels[i].name, out);
        line += strlen(want);
        line += 8; // the numpy column: yes, or no without NumPy
        at = want;
        for (int t = T_SCALAR; t <= T_AVX512; t++) {
            enum pick why;
            variant_pick(&kernels[i], t, cpu_features(CAP_AVX512), &why, NULL, 0);
            at += sprintf(at, " %-8s", marks[why]);
        }
        cr_expect(strncmp(line, want, strlen(want)) == 0, "%s: '%.40s', not '%s'", kernels[i].name, line, want);
    }
}

// --cpu N pins the run to CPU N, and says so.
Test(host, cpu_pins_the_run_to_the_cpu_named) {
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int cpu = -1;
    for (int c = CPU_SETSIZE - 1; c > 0 && cpu < 0; c--)
        if (CPU_ISSET(c, &set)) cpu = c;
    if (cpu < 0) cr_skip_test("this process may run on one CPU only");
    char args[256], says[64];
    snprintf(args, sizeof args, "--cpu %d --quick --no-roofline --kernel relu --tiers scalar --json %%s", cpu);
    struct json *doc = run_doc(args);
    snprintf(says, sizeof says, "pinned to CPU %d", cpu);
    cr_expect(strstr(out, says), "%s", out);
    cr_expect_eq(json_number(json_get(json_get(doc, "context"), "pinned_cpu"), -1), cpu);
    json_free(doc);
}

// $BMML_SCRIPTS_DIR is where kernels.py is found unless --scripts-dir says otherwise.
Test(host, scripts_dir_comes_from_the_environment_unless_the_option_names_one) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "BMML_SCRIPTS_DIR=/nonexistent-env-scripts timeout -k 5 60 '%s' --quick --kernel relu 2>&1",
             host);
    cr_expect_eq(run_shell(cmd, out, sizeof out), 3, "%s", out);
    cr_expect(strstr(out, "/nonexistent-env-scripts"), "%s", out);
    // tests/scripts/slow has no numpy_kernels.py: the numpy row says so, as it would not from pyscripts/
    snprintf(cmd, sizeof cmd, "BMML_SCRIPTS_DIR='%s/tests/scripts/slow' timeout -k 5 60 '%s' --kernel relu --size 1000 "
             "--tiers numpy,scalar --no-roofline --quiet 2>&1", BMML_SRCDIR, host);
    cr_expect_eq(run_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "numpy_kernels"), "the environment's directory was used: %s", out);
    snprintf(cmd, sizeof cmd, "BMML_SCRIPTS_DIR=/nonexistent-env-scripts timeout -k 5 60 '%s' --kernel relu --size 1000 "
             "--tiers python --no-roofline --quiet --scripts-dir '%s/pyscripts' 2>&1", host, BMML_SRCDIR);
    cr_expect_eq(run_shell(cmd, out, sizeof out), 0, "--scripts-dir comes first: %s", out);
}

// The JSON fields README names: the interval's kind and coverage, max_ulp_err
// (null for int8), quant_rel_err for int8, and the decomposition, its total
// the product of its steps.
Test(host, json_has_the_fields_readme_names) {
    struct json *doc = run_doc("--quick --quiet --no-roofline --kernel relu,matmul_int8 --size 16 --tiers python,scalar "
                               "--json %s");
    static const char *const names[] = {"relu/scalar/16", "matmul_int8/scalar/16x16x16"};
    for (int i = 0; i < 2; i++) {
        const struct json *e = entry(doc, names[i]);
        const char *kind = str_of(e, "speedup_interval_kind");
        double coverage = json_number(json_get(e, "speedup_interval_coverage"), -1);
        cr_expect(strcmp(kind, "bootstrap95") == 0 || strcmp(kind, "range") == 0, "%s: kind %s", names[i], kind);
        cr_expect(coverage > 0 && coverage <= 1, "%s: coverage %g", names[i], coverage);
        if (strcmp(kind, "bootstrap95") == 0) cr_expect_eq(coverage, 0.95, "%s", names[i]);
        const struct json *interval = json_get(e, "speedup_interval");
        cr_expect(interval && interval->type == JSON_ARRAY && interval->n == 2, "%s: speedup_interval", names[i]);
    }
    // a Python row's CPU time and the Python control beside it, per sample; a native row has neither
    const struct json *py = entry(doc, "relu/python/16");
    double reps = json_number(json_get(py, "repetitions"), 0);
    static const char *const per_sample[] = {"cpu_samples_ns", "control_cpu_ns"};
    for (int i = 0; i < 2; i++) {
        const struct json *a = json_get(py, per_sample[i]);
        cr_assert(a && a->type == JSON_ARRAY && a->n == reps, "%s: one figure per sample", per_sample[i]);
        for (size_t k = 0; k < a->n; k++)
            cr_expect(json_number(&a->items[k], 0) > 0, "%s[%zu] is a positive time", per_sample[i], k);
        cr_expect_null(json_get(entry(doc, "relu/scalar/16"), per_sample[i]), "%s is the python tier's", per_sample[i]);
    }
    const struct json *relu = entry(doc, "relu/scalar/16"), *i8 = entry(doc, "matmul_int8/scalar/16x16x16");
    cr_expect(json_get(relu, "max_ulp_err") && json_get(relu, "max_ulp_err")->type == JSON_NUMBER, "relu's max_ulp_err");
    cr_expect(json_get(i8, "max_ulp_err") && json_get(i8, "max_ulp_err")->type == JSON_NULL, "int8's max_ulp_err is null");
    double q = json_number(json_get(i8, "quant_rel_err"), -1);
    cr_expect(q > 0 && q < 0.1, "int8's quant_rel_err: %g", q);
    cr_expect_null(json_get(relu, "quant_rel_err"), "quant_rel_err is int8's alone");
    const struct json *dec = json_get(doc, "decomposition");
    cr_assert(dec && dec->type == JSON_ARRAY && dec->n == 2, "a decomposition per kernel");
    for (size_t i = 0; i < dec->n; i++) {
        const struct json *d = &dec->items[i], *steps = json_get(d, "steps");
        cr_assert(steps && steps->type == JSON_ARRAY && steps->n >= 1, "%s: steps", str_of(d, "kernel"));
        double product = 1;
        for (size_t s = 0; s < steps->n; s++) product *= json_number(json_get(&steps->items[s], "ratio"), NAN);
        double total = json_number(json_get(d, "total"), NAN);
        cr_expect(fabs(product - total) <= 1e-9 * total, "%s: total %g, product of the steps %g", str_of(d, "kernel"),
                  total, product);
        cr_expect_eq(json_number(json_get(json_get(d, "factors"), "interpreter"), NAN),
                     json_number(json_get(&steps->items[0], "ratio"), 0), "python -> scalar is the interpreter's step");
    }
    json_free(doc);
}

// A write that fails (here the file size limit) leaves the old file as it was
// and no temporary beside it; the run says so and exits 3.
Test(host, an_old_file_survives_a_failed_write) {
    const char *host = getenv("BMML_HOST");
    if (!host) cr_skip_test("BMML_HOST is not set (make check sets it)");
    char dir[] = "/tmp/bmml-atomic-XXXXXX", path[64], cmd[1024];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"old\": true}\n", f);
    fclose(f);
    // 4 blocks of 512 bytes: the JSON of a run is longer; SIGXFSZ ignored, so the write fails with EFBIG
    snprintf(cmd, sizeof cmd, "trap '' XFSZ; ulimit -f 4; exec timeout -k 5 60 '%s' --quick --quiet --no-roofline "
             "--kernel relu --tiers scalar --json %s 2>&1", host, path);
    cr_expect_eq(run_shell(cmd, out, sizeof out), 3, "%s", out);
    cr_expect(strstr(out, path), "the error names the file: %s", out);
    char old[64] = "";
    f = fopen(path, "r");
    cr_assert_not_null(f, "the old file is gone");
    old[fread(old, 1, sizeof old - 1, f)] = '\0';
    fclose(f);
    cr_expect_str_eq(old, "{\"old\": true}\n", "the old file as it was");
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = r.json", dir);
    cr_expect_eq(system(cmd), 0, "no temporary left beside it");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}
