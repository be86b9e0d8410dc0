#ifndef SKIFF_FILEIO_SYSTEM_CALLS_H
#define SKIFF_FILEIO_SYSTEM_CALLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// copy_file_range(2) from the current offsets of `in` and `out`, which Swift's Glibc module does
/// not declare (it needs _GNU_SOURCE). Returns the bytes copied (0 at end of file) or -1 with
/// errno set; where the call does not exist (not Linux), -1 with errno ENOSYS.
ssize_t skiff_copy_file_range(int in, int out, size_t count);

/// Starts writeback of `count` bytes at `offset` of `fd` (sync_file_range(2) with
/// SYNC_FILE_RANGE_WRITE) without waiting for it; 0, or -1 with errno set. A no-op returning 0
/// where the call does not exist (not Linux).
int skiff_start_writeback(int fd, int64_t offset, int64_t count);

/// The file system type (`f_type` of fstatfs(2), e.g. 0xEF53 for ext2/3/4) of the file open on
/// `fd`, or 0 when unknown (fstatfs failed, or not Linux).
int64_t skiff_file_system_type(int fd);

#endif
