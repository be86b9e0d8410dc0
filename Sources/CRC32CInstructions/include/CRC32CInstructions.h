#ifndef SKIFF_CRC32C_INSTRUCTIONS_H
#define SKIFF_CRC32C_INSTRUCTIONS_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction the functions below use (x86-64 SSE4.2,
/// ARMv8 CRC32), 0 otherwise. Cheap: the answer is computed once.
int skiff_crc32c_instructions_available(void);

/// Extends a raw (not inverted) CRC-32C register with `count` bytes, using the CPU's
/// CRC-32C instruction. Only call when skiff_crc32c_instructions_available() is 1.
uint32_t skiff_crc32c_instructions_update(uint32_t state, const void *bytes, size_t count);

#endif
