#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

static void release(struct atomic_file *a) {
    free(a->path);
    free(a->tmp);
    a->f = NULL;
    a->path = a->tmp = NULL;
}

int atomic_open(struct atomic_file *a, const char *path) {
    size_t len = strlen(path);
    a->f = NULL;
    a->path = strdup(path);
    a->tmp = malloc(len + sizeof ".tmp.XXXXXX");
    if (!a->path || !a->tmp) {
        release(a);
        errno = ENOMEM;
        return -1;
    }
    // a unique name, so two runs writing the same directory do not share one
    memcpy(a->tmp, path, len);
    memcpy(a->tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        release(a);
        errno = e;
        return -1;
    }
    // mkstemp makes it 0600; the finished file gets the mode fopen would give
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(a->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        release(a);
        errno = e;
        return -1;
    }
    return 0;
}

int atomic_commit(struct atomic_file *a) {
    int bad = fflush(a->f) != 0 || ferror(a->f);
    int e = bad ? (errno ? errno : EIO) : 0;
    // on disk before the rename, so a crash leaves the old file or the new one
    if (!bad && fsync(fileno(a->f)) != 0 && errno != EINVAL) bad = 1, e = errno;
    if (fclose(a->f) != 0 && !bad) bad = 1, e = errno;
    if (!bad && rename(a->tmp, a->path) != 0) bad = 1, e = errno;
    if (bad) unlink(a->tmp);
    release(a);
    errno = e;
    return bad ? -1 : 0;
}

void atomic_abort(struct atomic_file *a) {
    if (!a->f) return;
    fclose(a->f);
    unlink(a->tmp);
    release(a);
}
