// Entry point of the genlab native addon.
#include "common.h"

namespace genlab {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerSlotFunctions(env, exports);
  registerOpFunctions(env, exports);
  registerAutogradFunctions(env, exports);
  registerIoFunctions(env, exports);
  registerRuntimeFunctions(env, exports);
  return exports;
}

}  // namespace genlab

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return genlab::Init(env, exports); }
NODE_API_MODULE(genlab, InitAddon)
