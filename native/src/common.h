// Shared declarations of the genlab addon.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <string>

namespace genlab {

// ---- tensor slot table (slots.cc) ----
// JS holds plain integer handles into this table (slot index and generation, see slots.cc); a handle
// of -1 marks a disposed tensor.
// A handle made while a tidy() scope is open is scope-owned; one made outside every scope is
// GC-owned, and only GC-owned handles' storages are reported to V8 as external memory.
int32_t storeTensor(napi_env env, at::Tensor t);  // zero tensors without memory are materialised first
at::Tensor materialised(at::Tensor t);
const at::Tensor& tensorAt(int32_t h);          // throws std::runtime_error on a bad handle
bool validHandle(int32_t h);                    // live, and of the slot's current generation
std::string handleProblem(int32_t h);           // why a handle is not valid: disposed, stale or invalid
void releaseTensor(napi_env env, int32_t h);
// The handle escaped every scope: the GC owns it now and its storage is reported. Idempotent.
void escapeTensor(napi_env env, int32_t h);
// Re-counts a handle after an operation may have changed its storage in place (set_, set_data,
// resize_, out= arguments): bytes and V8 reports follow the storage it now has.
void syncTensor(napi_env env, int32_t h);
void registerSlotFunctions(Napi::Env env, Napi::Object exports);

// ---- helpers ----
// Appended to every "disposed tensor" message: where tensors go that nobody disposed by hand. Since
// each Module.forward became a scope, a tensor captured inside one (a closure, a hook) is the likely case.
inline constexpr const char* kDisposedHint =
    " (freed by dispose() or when the scope that made it ended: a tidy(), or the module forward it was made in; "
    "return it or keep() it to use it after)";
std::string describeTensor(const at::Tensor& t);  // e.g. "float32[2, 3]"
const char* dtypeName(at::ScalarType s);
// Converts a native failure into a pending JS Error (raw N-API, for the hot path).
void throwJs(napi_env env, const std::string& msg);
// Reads a tensor handle from a JS value; empty optional when the value is not a number.
int32_t handleFromValue(napi_env env, napi_value v, bool* ok);

// ---- CPU features ----
// Whether this CPU runs the AVX2 paths of genlab's own kernels (data, fused and norm kernels), and
// AVX2 with FMA; read once when the addon loads. Each kernel keeps a scalar path for other CPUs.
#if defined(__x86_64__)
inline const bool kCpuAvx2 = __builtin_cpu_supports("avx2");
inline const bool kCpuAvx2Fma = kCpuAvx2 && __builtin_cpu_supports("fma");
#endif

void registerOpFunctions(Napi::Env env, Napi::Object exports);
void registerAutogradFunctions(Napi::Env env, Napi::Object exports);
void registerIoFunctions(Napi::Env env, Napi::Object exports);
void registerRuntimeFunctions(Napi::Env env, Napi::Object exports);

// Exports a function whose native failures become JS Errors prefixed with its name, never an abort.
template <typename F>
void exportFn(Napi::Env env, Napi::Object exports, const char* name, F f) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [f, name](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return f(info);
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const c10::Error& e) {
                            throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what_without_backtrace());
                          } catch (const std::exception& e) {
                            throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what());
                          }
                        },
                        name));
}

// Reads argument i as a live tensor handle.
const at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i);
int32_t handleArg(const Napi::CallbackInfo& info, size_t i);
Napi::Value newHandle(Napi::Env env, at::Tensor t);  // null for an undefined tensor

// ---- generators (runtime.cc) ----
at::Generator generatorAt(int32_t id);

}  // namespace genlab
