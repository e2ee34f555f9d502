// --compare OLD.json NEW.json: the change of every median between two runs
// of bmml-host, and whether it is beyond what the machine's state explains.
#ifndef BMML_COMPARE_H
#define BMML_COMPARE_H

#include <stdio.h>

// The unit of --compare is a pass: with fewer a side there is nothing to
// set a change against.
#define CMP_MIN_PASSES 2
// The least change called, whatever the controls say: a process's memory
// layout alone moves a tier by a few percent from one run to the next.
#define CMP_FLOOR 0.05
// The least change of a Python row's fastest CPU time called (compare.c):
// two processes' fastest repetitions of the same Python kernel differ by
// more than a native tier's do (a spell of other work on the core can cover
// every repetition of a short row, and the process's memory layout differs).
#define CMP_PYTHON_FLOOR 0.15

// The control (controls.h) whose kind of work a row is: python and numpy the
// interpreter's; an element-wise kernel whose bytes (8 per element) pass the
// L2 the memory copy's; scalar the scalar loop's; every other tier SIMD's.
int compare_control_of(const char *kernel, const char *tier, const char *size, double l2_bytes);

// Read both files, print one line per (kernel, tier, size) to out. 0, or 2
// with the reason in err when a file cannot be read or is not bmml-host's JSON.
int compare_main(const char *old_path, const char *new_path, FILE *out, char *err, size_t errlen);

#endif
