// Entry point of the genlab native addon.
#include "common.h"
#include <malloc.h>
#include <cstdlib>

namespace genlab {

void registerDistributedFunctions(Napi::Env env, Napi::Object exports);  // distributed.cc

// Keeps freed tensor memory in the heap instead of handing it back to the kernel. With glibc's
// defaults a Node process unmaps every large buffer on free, so each training step page-faults its
// activations in again: a small conv net step took 250 ms instead of 45 ms (bench/engine.ts).
// PyTorch processes usually reach a similar state through glibc's dynamic thresholds.
// GENLAB_MALLOC_TUNING=0 leaves glibc's settings alone.
void tuneAllocator() {
  const char* flag = std::getenv("GENLAB_MALLOC_TUNING");
  if (flag != nullptr && flag[0] == '0') return;
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void registerAllocatorFunctions(Napi::Env env, Napi::Object exports);  // allocator.cc
void registerDataFunctions(Napi::Env env, Napi::Object exports);       // data_kernels.cc
void registerFusedFunctions(Napi::Env env, Napi::Object exports);      // fused_kernels.cc
void registerNormFunctions(Napi::Env env, Napi::Object exports);       // norm_kernels.cc
void registerNormSiluFunctions(Napi::Env env, Napi::Object exports);   // norm_silu_kernels.cc
void registerPoolFunctions(Napi::Env env, Napi::Object exports);       // pool_kernels.cc

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  registerAllocatorFunctions(env, exports);  // first: installs the caching allocator before any tensor is made
  registerSlotFunctions(env, exports);
  registerOpFunctions(env, exports);
  registerAutogradFunctions(env, exports);
  registerIoFunctions(env, exports);
  registerRuntimeFunctions(env, exports);
  registerDistributedFunctions(env, exports);
  registerDataFunctions(env, exports);
  registerFusedFunctions(env, exports);
  registerNormFunctions(env, exports);
  registerNormSiluFunctions(env, exports);
  registerPoolFunctions(env, exports);
  return exports;
}

}  // namespace genlab

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return genlab::Init(env, exports); }
NODE_API_MODULE(genlab, InitAddon)
