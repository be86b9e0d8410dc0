// The CPU's own CRC-32C instruction (x86-64 SSE4.2 `crc32`, ARMv8 `crc32c*`), which Swift
// cannot reach: about 3x the software tables on the project's machines. Every streamed
// remote-read frame is checksummed, so this is on the StoreAPI's hot path.
//
// One dependent chain of 8-byte steps: the instruction's latency (3 cycles) bounds it at
// ~8 bytes / 3 cycles, well above the loopback bandwidth the frames arrive at.
#include "CRC32CInstructions.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

static int detect(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t skiff_crc32c_instructions_update(uint32_t state, const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    uint64_t crc = state;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // an unaligned load
        crc = __builtin_ia32_crc32di(crc, word);
        p += 8;
        count -= 8;
    }
    uint32_t crc32 = (uint32_t)crc;
    while (count > 0) {
        crc32 = __builtin_ia32_crc32qi(crc32, *p);
        p++;
        count--;
    }
    return crc32;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

static int detect(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

__attribute__((target("crc")))
uint32_t skiff_crc32c_instructions_update(uint32_t state, const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    uint32_t crc = state;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __builtin_arm_crc32cd(crc, word);
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        crc = __builtin_arm_crc32cb(crc, *p);
        p++;
        count--;
    }
    return crc;
}

#else
static int detect(void) { return 0; }

uint32_t skiff_crc32c_instructions_update(uint32_t state, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return state;  // never called: detect() says no
}
#endif

int skiff_crc32c_instructions_available(void) {
    // Racing first callers compute and store the same answer.
    static _Atomic int cached = -1;
    int known = atomic_load_explicit(&cached, memory_order_relaxed);
    if (known < 0) {
        known = detect();
        atomic_store_explicit(&cached, known, memory_order_relaxed);
    }
    return known;
}
