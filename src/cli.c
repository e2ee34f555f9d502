// Options and their validation: every value is checked whole, and a bad one
// is named in a one-line message (exit code 2).
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "kernels.h"
#include "parallel.h"

void cli_usage(FILE *f) {
    fprintf(f,
        "Usage: bmml-host [OPTION]...\n"
        "Measure neural-network kernels in pure Python and in native code, on the same\n"
        "memory, verified against a double-precision reference.\n"
        "\n"
        "What to run (with no selection: every kernel at the --all sizes):\n"
        "  --all              every kernel at its standard size: relu 10000000,\n"
        "                     softmax and gelu 1000000, matmul and matmul_int8 500x500x500,\n"
        "                     layernorm 4096x1024, attention 8x256x64\n"
        "  --quick            every selected kernel at a small size, with --min-time 0.02\n"
        "  --kernel LIST      comma-separated: relu,softmax,gelu,matmul,matmul_int8,\n"
        "                     layernorm,attention\n"
        "  --tiers LIST       comma-separated: python,numpy,scalar,autovec,avx2,avx512,blas,\n"
        "                     onednn\n"
        "  --size N           element-wise kernels: N elements; the others N for every size\n"
        "  --size MxNxK       matmuls only: a (M,K) @ b (K,N)\n"
        "  --size RxC         layernorm only: R rows of C columns\n"
        "  --size HxSxD       attention only: H heads of S tokens of D dims\n"
        "  --threads N        threads for the native matmul tiers and the libraries (default 1;\n"
        "                     Python has one core, so 1 is the fair comparison)\n"
        "  --model FILE       run a trained model (model format version 2) over its test\n"
        "                     set in every tier, with its time per operation (with no\n"
        "                     --kernel, only the model); --all runs both committed models,\n"
        "                     models/digits.bmml and models/vit.bmml, after the kernels\n"
        "  --batch B          images per batch for --model (default: the whole test set)\n"
        "  --cpu N            pin the run to CPU N (default: the first CPU it may use;\n"
        "                     with --threads above 1, no pinning)\n"
        "  --max-isa ISA      use at most scalar, avx2 or avx512 (as a CPU without\n"
        "                     the wider instruction sets would)\n"
        "\n"
        "How:\n"
        "  --seed S           seed of the inputs (default 42)\n"
        "  --min-time T       seconds of timed repetitions per tier, at least %d (default 0.2)\n"
        "  --repetitions R    exactly R timed repetitions per tier instead (--max-time\n"
        "                     then does not cut a Python series short)\n"
        "  --max-time T       a Python repetition longer than T seconds ends its series\n"
        "                     (default 10)\n"
        "  --passes P         take each case's repetitions in P passes over all the\n"
        "                     cases, so they are spread over the run (1 to %d, default 3;\n"
        "                     at most R with --repetitions R)\n"
        "  --no-roofline      do not measure the machine's peaks at start (no share of\n"
        "                     the roof is reported then)\n"
        "  --blas-core CORE   run OpenBLAS with OPENBLAS_CORETYPE=CORE (SkylakeX, Haswell,\n"
        "                     ...), or 'auto': the core that matches this CPU when the\n"
        "                     one OpenBLAS chose lacks a vector extension it has\n"
        "                     (default: what the environment gives)\n"
        "  --scripts-dir DIR  where kernels.py is (default: $BMML_SCRIPTS_DIR, then the\n"
        "                     build tree when run from it, then the installed copy)\n"
        "\n"
        "Output:\n"
        "  --json FILE        also write the results as JSON\n"
        "  --report DIR       write results.json, .csv and .md and SVG charts (speedup,\n"
        "                     decomposition; scaling after --sweep; operations when a\n"
        "                     model ran) into DIR\n"
        "  --sweep            run each selected kernel over a range of sizes (element-wise\n"
        "                     1e3..1e7, matmuls 16..1024, layernorm 1..16384 rows of 1024,\n"
        "                     attention 8x16x64..8x1024x64); Python stops where a\n"
        "                     repetition would pass --max-time\n"
        "  --compare OLD NEW  compare two JSON results: NEW/OLD per kernel, tier and size;\n"
        "                     a change is called only beyond what the steadiness\n"
        "                     controls say the machine moved (see README); runs nothing\n"
        "  --quiet            no progress line on stderr (there is none when stderr is\n"
        "                     not a terminal)\n"
        "  --list             list kernels and tiers with their availability here\n"
        "  --help             this text\n"
        "  --version          the version\n"
        "\n"
        "Exit status: 0 all ran and verified; 1 a tier failed or gave a wrong result;\n"
        "2 bad usage; 3 the environment (scripts, Python, memory, model file);\n"
        "130 or 143 stopped by SIGINT or SIGTERM (what finished is still reported).\n"
        "An ignored SIGINT stays ignored (a background job of a shell): use SIGTERM.\n",
        MIN_REPETITIONS, MIN_REPETITIONS);
}

// a usage error: the message into err, and 2, the exit status, to return
#define usage(...) (failf(__VA_ARGS__), 2)

// A whole decimal number >= 1 and <= max, nothing else.
static int parse_count(const char *s, unsigned long long max, unsigned long long *out) {
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || v < 1 || v > max) return -1;
    *out = v;
    return (int)(end - s);
}

// "N", or "AxB" (dims 2) or "AxBxC" (dims 3) into m, n and k, as
// struct shape gives each kind's sizes
static int parse_size_dims(const char *s, int dims, struct shape *out) {
    unsigned long long v[3];
    int used = 0, n = 0;
    for (;;) {
        int w = parse_count(s + used, (unsigned long long)SIZE_MAX / 64, &v[n]);
        if (w < 0) return -1;
        used += w;
        n++;
        if (s[used] == '\0') break;
        if (s[used] != 'x' || n == 3) return -1;
        used++;
    }
    if (n > 1 && n != dims) return -1;
    if (n == 1) *out = dims == 3 ? (struct shape){v[0], v[0], v[0]} : (struct shape){0, v[0], 0};
    else *out = (struct shape){v[0], v[1], n == 3 ? v[2] : 0};
    return 0;
}

int cli_parse_size(const char *s, int matmul, struct shape *out) {
    return parse_size_dims(s, matmul ? 3 : 1, out);
}

static int parse_seconds(const char *s, double *out) {
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 3600) return -1;
    *out = v;
    return 0;
}

static int parse_kernels(struct options *o, char *list, char *err, size_t errlen) {
    o->n_kernel = 0;
    if (!*list) return usage(err, errlen, "--kernel needs at least one kernel name");
    for (char *save, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const struct kernel *k = kernel_find(name);
        if (!k) return usage(err, errlen, "unknown kernel '%s' (kernels: relu, softmax, gelu, matmul, matmul_int8)", name);
        int idx = (int)(k - kernels), dup = 0;
        for (int i = 0; i < o->n_kernel; i++) dup |= o->kernel[i] == idx;
        if (!dup && o->n_kernel < (int)(sizeof o->kernel / sizeof o->kernel[0])) o->kernel[o->n_kernel++] = idx;
    }
    if (!o->n_kernel) return usage(err, errlen, "--kernel needs at least one kernel name");
    return 0;
}

static int parse_tiers(struct options *o, char *list, char *err, size_t errlen) {
    o->tiers = 0;
    for (char *save, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int t = tier_find(name);
        if (t < 0) return usage(err, errlen, "unknown tier '%s' (tiers: python, numpy, scalar, autovec, avx2, avx512, blas, onednn)", name);
        o->tiers |= 1u << t;
    }
    if (!o->tiers) return usage(err, errlen, "--tiers needs at least one tier name");
    return 0;
}

int cli_parse(struct options *o, int argc, char **argv, char *err, size_t errlen) {
    enum { O_ALL = 256, O_QUICK, O_KERNEL, O_TIERS, O_SIZE, O_SEED, O_MIN_TIME, O_MAX_TIME,
           O_MAX_ISA, O_SCRIPTS, O_JSON, O_LIST, O_HELP, O_VERSION, O_NO_ROOFLINE, O_REPETITIONS, O_THREADS, O_QUIET, O_MODEL, O_BATCH, O_REPORT, O_SWEEP, O_COMPARE, O_CPU, O_PASSES, O_BLAS_CORE };
    static const struct option longopts[] = {
        {"all", no_argument, NULL, O_ALL},
        {"quick", no_argument, NULL, O_QUICK},
        {"kernel", required_argument, NULL, O_KERNEL},
        {"tiers", required_argument, NULL, O_TIERS},
        {"size", required_argument, NULL, O_SIZE},
        {"seed", required_argument, NULL, O_SEED},
        {"min-time", required_argument, NULL, O_MIN_TIME},
        {"max-time", required_argument, NULL, O_MAX_TIME},
        {"max-isa", required_argument, NULL, O_MAX_ISA},
        {"scripts-dir", required_argument, NULL, O_SCRIPTS},
        {"blas-core", required_argument, NULL, O_BLAS_CORE},
        {"json", required_argument, NULL, O_JSON},
        {"list", no_argument, NULL, O_LIST},
        {"no-roofline", no_argument, NULL, O_NO_ROOFLINE},
        {"repetitions", required_argument, NULL, O_REPETITIONS},
        {"passes", required_argument, NULL, O_PASSES},
        {"threads", required_argument, NULL, O_THREADS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"model", required_argument, NULL, O_MODEL},
        {"report", required_argument, NULL, O_REPORT},
        {"sweep", no_argument, NULL, O_SWEEP},
        {"cpu", required_argument, NULL, O_CPU},
        {"compare", required_argument, NULL, O_COMPARE},
        {"batch", required_argument, NULL, O_BATCH},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->tiers = (1u << N_TIERS) - 1;
    o->seed = 42;
    o->min_time = 0.2;
    o->max_time = 10.0;
    o->passes = 3;
    o->threads = 1;
    o->cpu = -1;
    o->max_isa = CAP_AVX512;
    const char *size_arg = NULL;
    int min_time_set = 0;
    char buf[256];

    optind = 0; // reset getopt, so a second parse (in the tests) starts afresh
    opterr = 0; // our messages, not getopt's
    for (;;) {
        int prev = optind ? optind : 1;
        // "+": stop at the first non-option, so argv is not permuted and argv[prev] is
        // the argument getopt is on; ":": report a missing value as ':'
        int c = getopt_long(argc, argv, "+:", longopts, NULL);
        if (c == -1) break;
        const char *arg = optarg;
        switch (c) {
        case O_ALL: break; // the default selection, said explicitly
        case O_QUICK: o->quick = 1; break;
        case O_KERNEL:
            snprintf(buf, sizeof buf, "%s", arg);
            if (strlen(arg) >= sizeof buf) return usage(err, errlen, "--kernel list is too long");
            if (parse_kernels(o, buf, err, errlen)) return 2;
            break;
        case O_TIERS:
            snprintf(buf, sizeof buf, "%s", arg);
            if (strlen(arg) >= sizeof buf) return usage(err, errlen, "--tiers list is too long");
            if (parse_tiers(o, buf, err, errlen)) return 2;
            break;
        case O_SIZE: size_arg = arg; break;
        case O_SEED: {
            unsigned long long v;
            if (!(*arg >= '0' && *arg <= '9')) return usage(err, errlen, "--seed takes a whole number >= 0, not '%s'", arg);
            errno = 0;
            char *end;
            v = strtoull(arg, &end, 10);
            if (errno || *end) return usage(err, errlen, "--seed takes a whole number >= 0, not '%s'", arg);
            o->seed = v;
            break;
        }
        case O_MIN_TIME:
            if (parse_seconds(arg, &o->min_time)) return usage(err, errlen, "--min-time takes seconds > 0 and <= 3600, not '%s'", arg);
            min_time_set = 1;
            break;
        case O_MAX_TIME:
            if (parse_seconds(arg, &o->max_time)) return usage(err, errlen, "--max-time takes seconds > 0 and <= 3600, not '%s'", arg);
            break;
        case O_MAX_ISA:
            if (strcmp(arg, "scalar") == 0) o->max_isa = CAP_SCALAR;
            else if (strcmp(arg, "avx2") == 0) o->max_isa = CAP_AVX2;
            else if (strcmp(arg, "avx512") == 0) o->max_isa = CAP_AVX512;
            else return usage(err, errlen, "--max-isa takes scalar, avx2 or avx512, not '%s'", arg);
            break;
        case O_SCRIPTS:
            if (!*arg) return usage(err, errlen, "--scripts-dir needs a directory");
            o->scripts_dir = arg;
            break;
        case O_BLAS_CORE:
            // it goes into the environment: a name of letters and digits
            if (!*arg || strlen(arg) > 32 || strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(arg))
                return usage(err, errlen, "--blas-core takes an OpenBLAS core name (SkylakeX, Haswell, ...) or auto, not '%s'", arg);
            o->blas_core = arg;
            break;
        case O_JSON:
            if (!*arg) return usage(err, errlen, "--json needs a file name");
            o->json_path = arg;
            break;
        case O_LIST: o->list = 1; break;
        case O_NO_ROOFLINE: o->no_roofline = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_REPORT:
            if (!*arg) return usage(err, errlen, "--report needs a directory");
            o->report_dir = arg;
            break;
        case O_SWEEP: o->sweep = 1; break;
        case O_CPU: {
            unsigned long long v;
            // parse_count wants >= 1: CPU numbers start at 0
            if (!strcmp(arg, "0")) v = 0;
            else if (parse_count(arg, 1023, &v) < 0 || arg[strspn(arg, "0123456789")])
                return usage(err, errlen, "--cpu takes a CPU number from 0 to 1023, not '%s'", arg);
            o->cpu = (int)v;
            break;
        }
        case O_COMPARE:
            // the second file is the next argument
            if (optind >= argc || argv[optind][0] == '-')
                return usage(err, errlen, "--compare takes two JSON files: OLD NEW");
            o->compare[0] = arg;
            o->compare[1] = argv[optind++];
            break;
        case O_MODEL:
            if (!*arg) return usage(err, errlen, "--model needs a file name");
            o->model_path = arg;
            break;
        case O_BATCH: {
            unsigned long long v;
            if (parse_count(arg, 1u << 30, &v) < 0 || arg[strspn(arg, "0123456789")])
                return usage(err, errlen, "--batch takes a whole number >= 1, not '%s'", arg);
            o->batch = (size_t)v;
            break;
        }
        case O_THREADS: {
            unsigned long long v;
            if (parse_count(arg, MAX_THREADS, &v) < 0 || arg[strspn(arg, "0123456789")])
                return usage(err, errlen, "--threads takes a whole number from 1 to %d, not '%s'", MAX_THREADS, arg);
            o->threads = (int)v;
            break;
        }
        case O_REPETITIONS: {
            unsigned long long v;
            if (parse_count(arg, MAX_SAMPLES, &v) < 0 || arg[strspn(arg, "0123456789")])
                return usage(err, errlen, "--repetitions takes a whole number from 1 to %d, not '%s'", MAX_SAMPLES, arg);
            o->repetitions = (int)v;
            break;
        }
        case O_PASSES: {
            unsigned long long v;
            if (parse_count(arg, MIN_REPETITIONS, &v) < 0 || arg[strspn(arg, "0123456789")])
                return usage(err, errlen, "--passes takes a whole number from 1 to %d, not '%s'", MIN_REPETITIONS, arg);
            o->passes = (int)v;
            break;
        }
        case O_HELP: o->help = 1; break;
        case O_VERSION: o->version = 1; break;
        case ':': return usage(err, errlen, "option '%s' needs a value", argv[prev]);
        default:
            // optopt: the long option given a value, or an unknown short option's letter
            if (optopt >= O_ALL) return usage(err, errlen, "option '%s' takes no value", argv[prev]);
            return usage(err, errlen, "unknown option '%s'", argv[prev]);
        }
    }
    if (optind < argc) return usage(err, errlen, "unexpected argument '%s'", argv[optind]);
    if (size_arg) {
        // one size for every selected kernel: AxB or AxBxC only where they all take as many sizes
        int dims = o->n_kernel ? kinds[kernels[o->kernel[0]].kind].dims : 0;
        for (int i = 1; i < o->n_kernel; i++)
            if (kinds[kernels[o->kernel[i]].kind].dims != dims) dims = 0;
        if (parse_size_dims(size_arg, dims, &o->size))
            return usage(err, errlen, dims != 3 && strchr(size_arg, 'x') && !strchr(strchr(size_arg, 'x') + 1, 'x')
                        ? "--size RxC applies to layernorm only; select it with --kernel"
                        : dims != 3 && strchr(size_arg, 'x')
                        ? "--size MxNxK applies to matmul and matmul_int8 (HxSxD to attention) only; select them "
                          "with --kernel"
                        : "--size takes a whole number >= 1 (or MxNxK for the matmuls), not '%s'", size_arg);
        o->have_size = 1;
    }
    if (o->quick && !min_time_set) o->min_time = 0.02;
    return 0;
}

int cli_passes(const struct options *o) {
    return o->repetitions && o->repetitions < o->passes ? o->repetitions : o->passes;
}
