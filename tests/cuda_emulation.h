// CUDA's execution model on the CPU, for running the cuda backend's generated kernels in the
// tests where there is no GPU (see emulated_cupy.py, which compiles a module with this file
// included first).
//
// Every CUDA thread of a block is a fiber of its own; the blocks of a launch run one after the
// other. A thread runs until it reaches a point where it must wait for others, as the GPU
// makes it wait:
//  - __syncthreads(): until every thread of the block that has not returned is there;
//  - a warp intrinsic with a mask (__ballot_sync, __shfl*_sync, __match_any_sync): until every
//    lane of the mask is at a warp intrinsic with the same mask, as CUDA requires;
//  - __activemask(): until no thread of the block can go on; the lanes of the warp then
//    waiting at the same call are the active ones. Lanes that diverged reach the call one
//    after the other, as they may on a GPU, so code that relies on full warps fails here.
// A launch in which no thread can go on (a lane of a mask returned, __syncthreads in
// divergent code, a mask without the calling lane) stops with an error that says which
// threads wait where. A shuffle from a lane outside the mask, which CUDA leaves undefined,
// returns all bits set (NaN as a float). Shared memory is set to all bits set before every
// block, so that a block which reads what it did not write reads poison, not the block
// before's values. Threads that can go on run in the order of their ids, or the other way
// round: a race between two threads gives different results in the two orders.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstddef>
#include <algorithm>
#include <vector>
#include <string>
#include <memory>
using namespace std;

#if !defined(__x86_64__)
#error "the CUDA emulation switches threads with x86-64 code"
#endif

#define __global__
#define __device__
#define __launch_bounds__(...)
// all of a module's shared arrays in one section, which is poisoned before each block
#define __shared__ __attribute__((section("emu_shared")))
// (the linker defines these where a module has shared arrays)
extern char __start_emu_shared[] __attribute__((weak));
extern char __stop_emu_shared[] __attribute__((weak));

struct dim3 { unsigned int x, y, z; };

namespace _emu {

enum State { READY, SYNCTHREADS, WARP_OP, ACTIVEMASK, DONE };
enum Op { BALLOT, SHFL, SHFL_UP, SHFL_DOWN, MATCH_ANY };
const char* const STATE_NAMES[] = {"ready", "__syncthreads", "a warp intrinsic",
                                   "__activemask", "returned"};
const char* const OP_NAMES[] = {"__ballot_sync", "__shfl_sync", "__shfl_up_sync",
                                "__shfl_down_sync", "__match_any_sync"};

// Saves this fiber's registers (those a call must keep) on its stack and its stack pointer in
// *save_sp, and carries on with the fiber whose stack pointer is load_sp
extern "C" void _emu_switch(void** save_sp, void* load_sp);
asm(R"(
    .text
    .p2align 4
_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
)");

struct Thread {
    void* sp;
    dim3 idx;
    State state;
    Op op;
    uint32_t mask;
    uint64_t value, arg, result;
    const void* site;
};

const size_t STACK_BYTES = 256 * 1024;

struct Launch {
    void* scheduler_sp;
    std::vector<Thread> threads;
    std::vector<unsigned int> ready;
    Thread* current = nullptr;
    dim3 block_idx{0, 0, 0}, block_dim{1, 1, 1}, grid_dim{1, 1, 1};
    void (*kernel)(void*) = nullptr;
    void* kernel_args = nullptr;
    bool reverse = false;
};

inline thread_local Launch* launch_state = nullptr;
// the threads' stacks, kept from launch to launch (untouched pages cost nothing)
inline thread_local std::vector<std::unique_ptr<char[]>> stacks;

inline Thread& self() { return *launch_state->current; }
inline unsigned int lane_of(const Thread& t) { return t.idx.x % 32; }
inline Thread& lane(const Thread& t, unsigned int l) {
    return launch_state->threads[t.idx.x - lane_of(t) + l];
}

// back to the scheduler until this thread is released
inline void wait() { _emu_switch(&self().sp, launch_state->scheduler_sp); }

inline void release(Thread& t) {
    t.state = READY;
    launch_state->ready.push_back(t.idx.x);
}

// The result of a warp intrinsic once every lane of its mask is there
inline uint64_t warp_op(Op op, uint32_t mask, uint64_t value, uint64_t arg) {
    Thread& me = self();
    me.state = WARP_OP;
    me.op = op;
    me.mask = mask;
    me.value = value;
    me.arg = arg;
    if (!(mask >> lane_of(me) & 1u)) {
        wait();   // a mask without the calling lane: CUDA's behaviour is undefined, stop here
    }
    for (unsigned int l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        const Thread& t = lane(me, l);
        if (t.state != WARP_OP || t.op != op || t.mask != mask) {
            wait();   // the last lane to come computes the results and releases the others
            return me.result;
        }
    }
    const uint64_t poison = ~0ull;
    for (unsigned int l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        Thread& t = lane(me, l);
        uint64_t r = 0;
        if (op == BALLOT) {
            for (unsigned int k = 0; k < 32; k++)
                if ((mask >> k & 1u) && lane(me, k).value) r |= 1u << k;
        } else if (op == MATCH_ANY) {
            for (unsigned int k = 0; k < 32; k++)
                if ((mask >> k & 1u) && lane(me, k).value == t.value) r |= 1u << k;
        } else {
            // the source lane (width 32): beyond the warp's ends a lane keeps its own value
            long long src = op == SHFL ? (long long)(t.arg % 32)
                          : op == SHFL_UP ? (long long)l - (long long)t.arg
                          : (long long)l + (long long)t.arg;
            r = src < 0 || src > 31 ? t.value
                : (mask >> src & 1u) ? lane(me, (unsigned int)src).value : poison;
        }
        t.result = r;
        if (&t != &me) release(t);
    }
    me.state = READY;
    return me.result;
}

template <class T> uint64_t bits(T v) {
    static_assert(sizeof(T) <= 8, "warp intrinsics take values of at most 8 bytes");
    uint64_t b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}
template <class T> T from_bits(uint64_t b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}

// Where a thread starts: the kernel, then back to the scheduler for good
[[noreturn]] inline void entry() {
    launch_state->kernel(launch_state->kernel_args);
    self().state = DONE;
    wait();
    __builtin_unreachable();
}

// A stack that _emu_switch enters at entry(), as if entry had been called
inline void* fresh_stack(char* base) {
    uintptr_t top = ((uintptr_t)base + STACK_BYTES) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;              // entry's return address: it never returns
    *--sp = (void*)&entry;        // where _emu_switch returns to
    for (int r = 0; r < 6; r++) {
        *--sp = nullptr;          // rbp, rbx, r12-r15
    }
    uint32_t control[2] = {0, 0};
    asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(control[0]), "=m"(control[1]));
    *--sp = nullptr;
    memcpy(sp, control, sizeof control);
    return sp;
}

inline std::string describe_waits() {
    std::string out;
    Launch& L = *launch_state;
    for (const Thread& t : L.threads) {
        if (t.state == DONE || t.state == READY) continue;
        char line[200];
        snprintf(line, sizeof line, "\n  thread %u (warp %u, lane %u) waits at %s", t.idx.x,
                 t.idx.x / 32, t.idx.x % 32, STATE_NAMES[t.state]);
        out += line;
        if (t.state == WARP_OP) {
            snprintf(line, sizeof line, " %s with mask 0x%08x", OP_NAMES[t.op], t.mask);
            out += line;
        }
        if (out.size() > 4000) {
            out += "\n  ...";
            break;
        }
    }
    return out;
}

// Runs one block to its end; an error message (empty if none)
inline std::string run_block() {
    Launch& L = *launch_state;
    if (__start_emu_shared != nullptr) {
        memset(__start_emu_shared, 0xff, (size_t)(__stop_emu_shared - __start_emu_shared));
    }
    L.ready.clear();
    for (unsigned int i = 0; i < L.threads.size(); i++) {
        Thread& t = L.threads[i];
        t.idx = dim3{i, 0, 0};
        // the lanes beyond the block's last thread, in its last warp, never run
        t.state = i < L.block_dim.x ? READY : DONE;
        if (t.state == READY) {
            t.sp = fresh_stack(stacks[i].get());
            L.ready.push_back(i);
        }
    }
    for (;;) {
        // in order of thread id, as a warp's lanes run together
        while (!L.ready.empty()) {
            std::vector<unsigned int> round;
            round.swap(L.ready);
            std::sort(round.begin(), round.end());
            if (L.reverse) {
                std::reverse(round.begin(), round.end());
            }
            for (unsigned int i : round) {
                L.current = &L.threads[i];
                _emu_switch(&L.scheduler_sp, L.current->sp);
            }
        }
        // nobody can go on: the lanes at __activemask learn which of their warp are there
        bool released = false;
        for (Thread& t : L.threads) {
            if (t.state != ACTIVEMASK) continue;
            uint32_t mask = 0;
            for (unsigned int l = 0; l < 32; l++) {
                const Thread& u = lane(t, l);
                if (u.state == ACTIVEMASK && u.site == t.site) mask |= 1u << l;
            }
            for (unsigned int l = 0; l < 32; l++) {
                if (!(mask >> l & 1u)) continue;
                lane(t, l).result = mask;
                release(lane(t, l));
            }
            released = true;
        }
        if (released) continue;
        bool all_done = true, all_at_barrier = true;
        for (const Thread& t : L.threads) {
            all_done &= t.state == DONE;
            all_at_barrier &= t.state == DONE || t.state == SYNCTHREADS;
        }
        if (all_done) return "";
        if (!all_at_barrier) {
            char head[120];
            snprintf(head, sizeof head, "no thread of block %u can go on:", L.block_idx.x);
            return head + describe_waits();
        }
        for (Thread& t : L.threads)
            if (t.state == SYNCTHREADS) release(t);
    }
}

// Runs ``kernel(args)`` on a grid of ``grid`` blocks of ``block`` threads, the blocks and the
// threads that can go on in the order of their ids or (``reverse``) the other way round;
// returns 0, or 1 with the error in ``error``
inline int launch(unsigned int grid, unsigned int block, void (*kernel)(void*), void* args,
                  bool reverse, char* error, size_t error_size) {
    Launch L;
    L.grid_dim = dim3{grid, 1, 1};
    L.block_dim = dim3{block, 1, 1};
    L.kernel = kernel;
    L.kernel_args = args;
    L.reverse = reverse;
    L.threads.resize((block + 31) / 32 * 32);
    while (stacks.size() < block) {
        stacks.emplace_back(new char[STACK_BYTES]);
    }
    launch_state = &L;
    std::string message;
    for (unsigned int k = 0; k < grid && message.empty(); k++) {
        L.block_idx = dim3{reverse ? grid - 1 - k : k, 0, 0};
        message = run_block();
    }
    launch_state = nullptr;
    snprintf(error, error_size, "%s", message.c_str());
    return message.empty() ? 0 : 1;
}

}  // namespace _emu

#define threadIdx (_emu::self().idx)
#define blockIdx (_emu::launch_state->block_idx)
#define blockDim (_emu::launch_state->block_dim)
#define gridDim (_emu::launch_state->grid_dim)

inline void __syncthreads() {
    _emu::self().state = _emu::SYNCTHREADS;
    _emu::wait();
}

// not inlined, so that its return address tells its calls apart
__attribute__((noinline)) inline unsigned int __activemask() {
    _emu::Thread& me = _emu::self();
    me.state = _emu::ACTIVEMASK;
    me.site = __builtin_return_address(0);
    _emu::wait();
    return (unsigned int)me.result;
}

inline unsigned int __ballot_sync(unsigned int mask, int predicate) {
    return (unsigned int)_emu::warp_op(_emu::BALLOT, mask, predicate != 0, 0);
}
template <class T> unsigned int __match_any_sync(unsigned int mask, T value) {
    return (unsigned int)_emu::warp_op(_emu::MATCH_ANY, mask, _emu::bits(value), 0);
}
template <class T> T __shfl_sync(unsigned int mask, T value, int src_lane) {
    return _emu::from_bits<T>(_emu::warp_op(_emu::SHFL, mask, _emu::bits(value), src_lane));
}
template <class T> T __shfl_up_sync(unsigned int mask, T value, unsigned int delta) {
    return _emu::from_bits<T>(_emu::warp_op(_emu::SHFL_UP, mask, _emu::bits(value), delta));
}
template <class T> T __shfl_down_sync(unsigned int mask, T value, unsigned int delta) {
    return _emu::from_bits<T>(_emu::warp_op(_emu::SHFL_DOWN, mask, _emu::bits(value), delta));
}

// one thread runs at a time, so an atomic operation is a plain one
template <class T> T atomicAdd(T* address, T value) {
    const T old = *address;
    *address = old + value;
    return old;
}

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline float __int_as_float(int x) { return _emu::from_bits<float>((uint32_t)x); }
