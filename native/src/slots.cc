// The tensor slot table and per-storage memory accounting.
#include "common.h"
#include <vector>
#include "storage_table.h"

namespace genlab {
namespace {

std::vector<at::Tensor> slots;
std::vector<int32_t> freeSlots;
// Bytes are counted once per storage, however many views reference it.
StorageTable storages;
int64_t liveTensors = 0;
int64_t liveBytes = 0;
int64_t peakBytes = 0;
// External-memory reports to V8 are batched: one call per op would cost more than the bookkeeping.
int64_t unreportedBytes = 0;
constexpr int64_t kReportEvery = 1 << 20;

void reportExternal(napi_env env, int64_t delta) {
  unreportedBytes += delta;
  if (unreportedBytes >= kReportEvery || unreportedBytes <= -kReportEvery) {
    int64_t ignored;
    napi_adjust_external_memory(env, unreportedBytes, &ignored);
    unreportedBytes = 0;
  }
}

const c10::StorageImpl* storageOf(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

}  // namespace

int32_t storeTensor(napi_env env, at::Tensor t) {
  int32_t h;
  if (!freeSlots.empty()) {
    h = freeSlots.back();
    freeSlots.pop_back();
  } else {
    h = static_cast<int32_t>(slots.size());
    slots.emplace_back();
  }
  if (const auto* s = storageOf(t)) {
    auto& e = storages.at(s);
    if (e.refs++ == 0) {
      e.bytes = static_cast<int64_t>(t.storage().nbytes());
      liveBytes += e.bytes;
      if (liveBytes > peakBytes) peakBytes = liveBytes;
      if (t.device().is_cpu()) reportExternal(env, e.bytes);
    }
  }
  slots[h] = std::move(t);
  liveTensors++;
  return h;
}

bool validHandle(int32_t h) {
  return h >= 0 && static_cast<size_t>(h) < slots.size() && slots[h].defined();
}

const at::Tensor& tensorAt(int32_t h) {
  if (!validHandle(h)) {
    throw std::runtime_error(h == -1 ? "use of a disposed tensor" : "invalid tensor handle " + std::to_string(h));
  }
  return slots[h];
}

void releaseTensor(napi_env env, int32_t h) {
  if (!validHandle(h)) return;
  at::Tensor& t = slots[h];
  if (const auto* s = storageOf(t)) {
    auto* e = storages.find(s);
    if (e != nullptr && --e->refs == 0) {
      liveBytes -= e->bytes;
      if (t.device().is_cpu()) reportExternal(env, -e->bytes);
      storages.erase(e);
    }
  }
  t.reset();
  freeSlots.push_back(h);
  liveTensors--;
}

namespace {

napi_value Free(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t h = -1;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &h);
  releaseTensor(env, h);
  return nullptr;
}

// Frees every handle of an Int32Array in one crossing: a scope's end disposes many tensors at once.
napi_value FreeMany(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_int32_array) {
    throwJs(env, "freeMany expects an Int32Array");
    return nullptr;
  }
  uint32_t count = static_cast<uint32_t>(length);
  if (argc >= 2) napi_get_value_uint32(env, argv[1], &count);
  const int32_t* hs = static_cast<const int32_t*>(data);
  for (uint32_t i = 0; i < count && i < length; i++) releaseTensor(env, hs[i]);
  return nullptr;
}

}  // namespace

void registerSlotFunctions(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  napi_create_function(env, "free", NAPI_AUTO_LENGTH, Free, nullptr, &fn);
  exports.Set("free", fn);
  napi_create_function(env, "freeMany", NAPI_AUTO_LENGTH, FreeMany, nullptr, &fn);
  exports.Set("freeMany", fn);
  exportFn(env, exports, "memory", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto o = Napi::Object::New(info.Env());
    o.Set("tensors", static_cast<double>(liveTensors));
    o.Set("bytes", static_cast<double>(liveBytes));
    o.Set("peakBytes", static_cast<double>(peakBytes));
    o.Set("storages", static_cast<double>(storages.size()));
    return o;
  });
  exportFn(env, exports, "resetPeak", [](const Napi::CallbackInfo& info) -> Napi::Value {
    peakBytes = liveBytes;
    return info.Env().Undefined();
  });
  exportFn(env, exports, "sameStorage", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const auto& a = tensorArg(info, 0);
    const auto& b = tensorArg(info, 1);
    return Napi::Boolean::New(info.Env(), storageOf(a) != nullptr && storageOf(a) == storageOf(b));
  });
}

const char* dtypeName(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    default: return c10::toString(s);
  }
}

std::string describeTensor(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = dtypeName(t.scalar_type());
  s += "[";
  auto sizes = t.sizes();
  for (size_t i = 0; i < sizes.size(); i++) {
    if (i) s += ", ";
    s += std::to_string(sizes[i]);
  }
  s += "]";
  if (!t.device().is_cpu()) s += "@" + t.device().str();
  return s;
}

void throwJs(napi_env env, const std::string& msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, msg.c_str());
}

int32_t handleArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw std::runtime_error("argument " + std::to_string(i) + " must be a Tensor");
  return info[i].As<Napi::Number>().Int32Value();
}

const at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) { return tensorAt(handleArg(info, i)); }

Napi::Value newHandle(Napi::Env env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  return Napi::Number::New(env, storeTensor(env, std::move(t)));
}

int32_t handleFromValue(napi_env env, napi_value v, bool* ok) {
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type != napi_number) {
    *ok = false;
    return -1;
  }
  int32_t h;
  napi_get_value_int32(env, v, &h);
  *ok = true;
  return h;
}

}  // namespace genlab
