// Random generators, threads, and facts about the libtorch this addon runs on.
#include "common.h"
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>
#include <dlfcn.h>
#include <cmath>
#include <vector>

namespace genlab {
namespace {

// Generator 0 is libtorch's default CPU generator; others are made by newGenerator.
std::vector<at::Generator> generators;

void ensureDefault() {
  if (generators.empty()) generators.push_back(at::detail::getDefaultCPUGenerator());
}

// at::set_num_threads sizes OpenMP (and MKL) but not OpenBLAS, whose pthread build keeps its own
// worker per core. Those workers spin on sched_yield between BLAS calls, so with one libtorch
// thread a second core still burns (measured: a sixth of a short VDM run's CPU samples). Only an
// OpenBLAS already loaded by libtorch is touched; other BLAS libraries have no such symbol.
using BlasThreadsSetter = void (*)(int);
using BlasThreadsGetter = int (*)();

void* openBlas() {
  static void* handle = [] {
    for (const char* name : {"libopenblas.so.0", "libopenblasp.so.0", "libopenblaso.so.0"}) {
      if (void* h = dlopen(name, RTLD_LAZY | RTLD_NOLOAD)) return h;
    }
    return static_cast<void*>(nullptr);
  }();
  return handle;
}

void setBlasThreads(int n) {
  if (void* h = openBlas()) {
    if (auto set = reinterpret_cast<BlasThreadsSetter>(dlsym(h, "openblas_set_num_threads"))) set(n);
  }
}

/** OpenBLAS's thread count, or 0 when libtorch does not use OpenBLAS. */
int blasThreads() {
  if (void* h = openBlas()) {
    if (auto get = reinterpret_cast<BlasThreadsGetter>(dlsym(h, "openblas_get_num_threads"))) return get();
  }
  return 0;
}

// More threads than this is a mistake, not a machine: libgomp would try to allocate their stacks.
constexpr int kMaxThreads = 1024;

}  // namespace

at::Generator generatorAt(int32_t id) {
  ensureDefault();
  if (id < 0 || static_cast<size_t>(id) >= generators.size() || !generators[id].defined()) {
    throw std::runtime_error("invalid generator " + std::to_string(id));
  }
  return generators[id];
}

void registerRuntimeFunctions(Napi::Env env, Napi::Object exports) {
  setBlasThreads(at::get_num_threads());
  exportFn(env, exports, "manualSeed", [](const Napi::CallbackInfo& info) -> Napi::Value {
    ensureDefault();
    uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    auto gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    if (at::globalContext().hasCUDA()) {
      int n = at::detail::getCUDAHooks().getNumGPUs();
      for (int i = 0; i < n; i++) {
        auto g = at::detail::getCUDAHooks().getDefaultCUDAGenerator(i);
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_current_seed(seed);
      }
    }
    return info.Env().Undefined();
  });
  exportFn(env, exports, "newGenerator", [](const Napi::CallbackInfo& info) -> Napi::Value {
    ensureDefault();
    uint64_t seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    generators.push_back(at::make_generator<at::CPUGeneratorImpl>(seed));
    return Napi::Number::New(info.Env(), static_cast<double>(generators.size() - 1));
  });
  exportFn(env, exports, "freeGenerator", [](const Napi::CallbackInfo& info) -> Napi::Value {
    int32_t id = info[0].As<Napi::Number>().Int32Value();
    if (id > 0 && static_cast<size_t>(id) < generators.size()) generators[id] = at::Generator();
    return info.Env().Undefined();
  });
  exportFn(env, exports, "generatorSeed", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = generatorAt(info[0].As<Napi::Number>().Int32Value());
    return Napi::Number::New(info.Env(), static_cast<double>(g.current_seed()));
  });
  exportFn(env, exports, "generatorSetSeed", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = generatorAt(info[0].As<Napi::Number>().Int32Value());
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  });
  // The full generator state as a uint8 tensor, for checkpoints that resume bit-for-bit.
  exportFn(env, exports, "generatorGetState", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = generatorAt(info[0].As<Napi::Number>().Int32Value());
    std::lock_guard<std::mutex> lock(g.mutex());
    return newHandle(info.Env(), at::Tensor(g.get_state()));
  });
  exportFn(env, exports, "generatorSetState", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto g = generatorAt(info[0].As<Napi::Number>().Int32Value());
    const at::Tensor& state = tensorArg(info, 1);
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(state);
    return info.Env().Undefined();
  });
  exportFn(env, exports, "setNumThreads", [](const Napi::CallbackInfo& info) -> Napi::Value {
    // libgomp aborts the process when it cannot allocate a huge team, and Int32Value wraps 2^32 + 1
    // to 1, so the count is checked as a double against a ceiling first.
    if (info.Length() < 1 || !info[0].IsNumber()) throw std::runtime_error("thread count must be a number");
    const double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 1) || std::floor(d) != d) {
      throw std::runtime_error("thread count must be an integer of at least 1, got " + Napi::Number::New(info.Env(), d).ToString().Utf8Value());
    }
    if (d > kMaxThreads) {
      throw std::runtime_error("thread count " + Napi::Number::New(info.Env(), d).ToString().Utf8Value() + " is above genlab's ceiling of " +
                               std::to_string(kMaxThreads) + " threads");
    }
    int n = static_cast<int>(d);
    at::set_num_threads(n);
    setBlasThreads(n);
    return info.Env().Undefined();
  });
  exportFn(env, exports, "getNumThreads", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), at::get_num_threads());
  });
  exportFn(env, exports, "cudaDeviceCount", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (!at::globalContext().hasCUDA()) return Napi::Number::New(info.Env(), 0);
    return Napi::Number::New(info.Env(), at::detail::getCUDAHooks().getNumGPUs());
  });
  exportFn(env, exports, "runtimeInfo", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto o = Napi::Object::New(info.Env());
    o.Set("builtAgainst", TORCH_VERSION);
    o.Set("config", at::show_config());
    Dl_info dl;
    if (dladdr(reinterpret_cast<void*>(&at::show_config), &dl) && dl.dli_fname) o.Set("library", dl.dli_fname);
    o.Set("parallel", at::get_parallel_info());
    o.Set("blasThreads", blasThreads());
    return o;
  });
}

}  // namespace genlab
