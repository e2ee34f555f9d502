// What the harness itself costs, and what the embedding saves: an empty
// Python call from C, the clock, a Python subprocess, a ctypes round trip.
#ifndef BMML_HARNESS_H
#define BMML_HARNESS_H

struct harness {
    double clock_res_ns;      // clock_getres(CLOCK_MONOTONIC)
    double clock_read_ns;     // the least time between two readings of the clock
    double empty_call_ns;     // C -> an empty Python function with the kernels' arguments
    double subprocess_ms;     // starting `python3 -c pass` and waiting for it; 0 if it failed
    double ctypes_call_ns;    // Python -> a C function through ctypes, per call; 0 if it failed
    char python_exe[256];
};

// Needs the interpreter started (embed_start).
void harness_measure(struct harness *h);

#endif
