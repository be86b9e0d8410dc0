#define _GNU_SOURCE
#include "FileIOSystemCalls.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/vfs.h>
#endif

ssize_t skiff_copy_file_range(int in, int out, size_t count) {
#ifdef __linux__
    return copy_file_range(in, NULL, out, NULL, count, 0);
#else
    (void)in;
    (void)out;
    (void)count;
    errno = ENOSYS;
    return -1;
#endif
}

int skiff_start_writeback(int fd, int64_t offset, int64_t count) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)count, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)offset;
    (void)count;
    return 0;
#endif
}

int64_t skiff_file_system_type(int fd) {
#ifdef __linux__
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return 0;
    return (int64_t)st.f_type;
#else
    (void)fd;
    return 0;
#endif
}
