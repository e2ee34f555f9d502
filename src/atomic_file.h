// Files that appear whole or not at all: written to a temporary name in the
// same directory, then renamed over the target, so an interrupted run never
// leaves a torn file where a reader expects a finished one.
#ifndef BMML_ATOMIC_FILE_H
#define BMML_ATOMIC_FILE_H

#include <stdio.h>

struct atomic_file {
    FILE *f;      // write here
    char *path;   // the target
    char *tmp;    // the temporary beside it
};

// Open a temporary beside path. 0, or -1 with errno set.
int atomic_open(struct atomic_file *a, const char *path);
// Flush, sync and rename over the target when every write succeeded; else
// remove the temporary. 0, or -1 with errno set. Always releases a.
int atomic_commit(struct atomic_file *a);
// Give up: remove the temporary, leave the target as it was.
void atomic_abort(struct atomic_file *a);

#endif
