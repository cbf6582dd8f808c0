// The tensor slot table and per-storage memory accounting.
#include "common.h"
#include <vector>
#include "storage_table.h"

namespace genlab {
namespace {

// Who is responsible for freeing a handle decides whether its bytes are reported to V8.
// - A handle made while a tidy() scope is open belongs to that scope, which frees it deterministically.
//   Its bytes are not reported: V8 would answer the "external memory" with major collections that
//   cannot free anything (they cost a quarter to a third of a Glow training step).
// - A handle made outside every scope, or one that escapes the outermost scope (returned from it, or
//   kept), belongs to the garbage collector through the FinalizationRegistry backstop. Its storage is
//   reported with napi_adjust_external_memory so that V8 collects under pressure, and un-reported when
//   the handle is freed (dispose, scope end, finalizer) or when its storage changes in place.
// A storage is reported once, while at least one GC-owned handle refers to it, however many views share it.
struct SlotInfo {
  const c10::StorageImpl* storage = nullptr;  // the storage this handle is counted against
  int64_t bytes = 0;                           // its size when last seen through this handle
  bool gc = false;                             // owned by the garbage collector
};

// A handle is (generation << kIndexBits) | slot index, a non-negative int32 (JS keeps it a small
// integer, and scope.ts frees handles through an Int32Array). Each slot's generation moves on when
// its tensor is freed, so a stale handle (kept after dispose, or forged from an old number) no longer
// matches and throws instead of reaching whatever tensor reuses the slot. Generations run 1..kMaxGen
// and wrap, so a handle made up of a small integer (generation 0) is never valid, and a stale handle
// could only match again after its slot was reused kMaxGen times. The table holds at most
// 2^kIndexBits live tensors.
constexpr int kIndexBits = 21;
constexpr int32_t kIndexMask = (1 << kIndexBits) - 1;
constexpr uint16_t kMaxGen = (1 << (31 - kIndexBits)) - 1;

std::vector<at::Tensor> slots;
std::vector<SlotInfo> infos;
std::vector<uint16_t> gens;  // the generation of each slot's current (or next) tensor
std::vector<int32_t> freeSlots;
// Bytes are counted once per storage, however many views reference it.
StorageTable storages;
int64_t liveTensors = 0;
int64_t liveBytes = 0;
int64_t peakBytes = 0;
int64_t gcTensors = 0;
// gcBytes: exact bytes of the CPU storages held by GC-owned handles. v8Bytes: the net amount passed to
// napi_adjust_external_memory. Reports are batched (one call per op would cost more than the
// bookkeeping), so the two differ by under kReportEvery, and are equal whenever gcBytes is 0: V8's
// count returns exactly to where it started once every GC-owned tensor is freed.
int64_t gcBytes = 0;
int64_t v8Bytes = 0;
constexpr int64_t kReportEvery = 1 << 20;

// scopeDepth points at a cell of a buffer JS writes: the number of open tidy() scopes.
int32_t noScopes = 0;
const int32_t* scopeDepth = &noScopes;
napi_ref scopeCellRef = nullptr;

void reportExternal(napi_env env, int64_t delta) {
  gcBytes += delta;
  int64_t pending = gcBytes - v8Bytes;
  if (pending >= kReportEvery || pending <= -kReportEvery || (gcBytes == 0 && pending != 0)) {
    int64_t ignored;
    napi_adjust_external_memory(env, pending, &ignored);
    v8Bytes = gcBytes;
  }
}

const c10::StorageImpl* storageOf(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

// Counts a handle against the storage of t.
void attach(napi_env env, SlotInfo& si, const at::Tensor& t) {
  const c10::StorageImpl* s = storageOf(t);
  si.storage = s;
  si.bytes = 0;
  if (s == nullptr) return;
  auto& e = storages.at(s);
  if (e.refs++ == 0) {
    e.bytes = static_cast<int64_t>(s->nbytes());
    e.cpu = s->device().is_cpu();
    liveBytes += e.bytes;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
  }
  si.bytes = e.bytes;
  if (si.gc && e.gcRefs++ == 0 && e.cpu) reportExternal(env, e.bytes);
}

// Undoes attach(), for the storage the handle was counted against (not necessarily its current one).
void detach(napi_env env, SlotInfo& si) {
  if (si.storage == nullptr) return;
  auto* e = storages.find(si.storage);
  si.storage = nullptr;
  if (e == nullptr) return;
  if (si.gc && --e->gcRefs == 0 && e->cpu) reportExternal(env, -e->bytes);
  if (--e->refs == 0) {
    liveBytes -= e->bytes;
    storages.erase(e);
  }
}

}  // namespace

// A tensor JS can read must own memory. libtorch's "efficient zero tensors" (_efficientzerotensor, and
// the zero gradients autograd makes for sgn and the like) have a null data pointer: reading one killed
// the process. They become ordinary zeros before JS sees them (a key-set bit test on the hot path).
at::Tensor materialised(at::Tensor t) {
  if (C10_UNLIKELY(t._is_zerotensor())) {
    at::AutoDispatchBelowADInplaceOrView guard;  // no autograd history for the copy
    return at::zeros(t.sizes(), t.options());
  }
  return t;
}

int32_t storeTensor(napi_env env, at::Tensor t) {
  if (C10_UNLIKELY(t._is_zerotensor())) t = materialised(std::move(t));
  int32_t h;
  if (!freeSlots.empty()) {
    h = freeSlots.back();
    freeSlots.pop_back();
  } else {
    if (slots.size() > static_cast<size_t>(kIndexMask)) {
      throw std::runtime_error("more than " + std::to_string(kIndexMask + 1) + " live tensors; dispose some (tidy(), dispose())");
    }
    h = static_cast<int32_t>(slots.size());
    slots.emplace_back();
    infos.emplace_back();
    gens.push_back(1);
  }
  SlotInfo& si = infos[h];
  si.gc = *scopeDepth == 0;
  gcTensors += si.gc;
  attach(env, si, t);
  slots[h] = std::move(t);
  liveTensors++;
  return (static_cast<int32_t>(gens[h]) << kIndexBits) | h;
}

bool validHandle(int32_t h) {
  const size_t i = static_cast<size_t>(h & kIndexMask);
  return h >= 0 && i < slots.size() && gens[i] == (h >> kIndexBits) && slots[i].defined();
}

std::string handleProblem(int32_t h) {
  if (h == -1) return std::string("use of a disposed tensor") + kDisposedHint;
  const size_t i = static_cast<size_t>(h & kIndexMask);
  if (h > 0 && (h >> kIndexBits) != 0 && i < slots.size()) {
    return "stale tensor handle " + std::to_string(h) + ": its tensor was freed (the handle outlived dispose() or its scope)";
  }
  return "invalid tensor handle " + std::to_string(h) + " (not one the addon made)";
}

const at::Tensor& tensorAt(int32_t h) {
  if (!validHandle(h)) throw std::runtime_error(handleProblem(h));
  return slots[h & kIndexMask];
}

void releaseTensor(napi_env env, int32_t h) {
  if (!validHandle(h)) return;
  h &= kIndexMask;
  SlotInfo& si = infos[h];
  detach(env, si);
  gcTensors -= si.gc;
  si.gc = false;
  slots[h].reset();
  gens[h] = gens[h] == kMaxGen ? 1 : gens[h] + 1;  // every handle to the old tensor is stale from now on
  freeSlots.push_back(h);
  liveTensors--;
}

void escapeTensor(napi_env env, int32_t h) {
  if (!validHandle(h)) return;
  h &= kIndexMask;
  SlotInfo& si = infos[h];
  if (si.gc) return;
  si.gc = true;
  gcTensors++;
  if (si.storage == nullptr) return;
  auto* e = storages.find(si.storage);
  if (e != nullptr && e->gcRefs++ == 0 && e->cpu) reportExternal(env, e->bytes);
}

void syncTensor(napi_env env, int32_t h) {
  if (!validHandle(h)) return;
  h &= kIndexMask;
  const at::Tensor& t = slots[h];
  SlotInfo& si = infos[h];
  const c10::StorageImpl* s = storageOf(t);
  if (s == si.storage) {
    if (s == nullptr) return;
    auto nb = static_cast<int64_t>(s->nbytes());
    if (nb == si.bytes) return;
    // Resized in place (resize_, or an out= argument of the wrong size): every handle on it sees the change.
    si.bytes = nb;
    auto* e = storages.find(s);
    if (e == nullptr || e->bytes == nb) return;
    int64_t delta = nb - e->bytes;
    e->bytes = nb;
    liveBytes += delta;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
    if (e->gcRefs > 0 && e->cpu) reportExternal(env, delta);
    return;
  }
  // The tensor now points at another storage (set_, set_data). Other handles to the same TensorImpl
  // (alias()) changed with it; re-count them all. Rare, so a scan of the table is fine.
  const c10::TensorImpl* impl = t.unsafeGetTensorImpl();
  for (size_t i = 0; i < slots.size(); i++) {
    if (!slots[i].defined() || slots[i].unsafeGetTensorImpl() != impl) continue;
    if (storageOf(slots[i]) == infos[i].storage) continue;
    detach(env, infos[i]);
    attach(env, infos[i], slots[i]);
  }
}

namespace {

// The handle passed as the first argument, or -1 (which every slot function ignores). Raw N-API
// rather than Napi::CallbackInfo: free and escape run for every tensor that leaves a scope.
int32_t firstHandle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t h = -1;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &h);
  return h;
}

napi_value Free(napi_env env, napi_callback_info info) {
  releaseTensor(env, firstHandle(env, info));
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

// escape(h): the handle left every scope; from now on the garbage collector owns it.
napi_value Escape(napi_env env, napi_callback_info info) {
  escapeTensor(env, firstHandle(env, info));
  return nullptr;
}

}  // namespace

void registerSlotFunctions(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  napi_create_function(env, "escape", NAPI_AUTO_LENGTH, Escape, nullptr, &fn);
  exports.Set("escape", fn);
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
    o.Set("gcTensors", static_cast<double>(gcTensors));
    o.Set("gcBytes", static_cast<double>(gcBytes));
    o.Set("v8ExternalBytes", static_cast<double>(v8Bytes));
    return o;
  });
  // scopeDepthCell(): an Int32Array of one element that scope.ts keeps equal to the number of open
  // tidy() scopes. The addon reads it on every tensor it makes (0: the GC owns the new handle), so
  // entering and leaving a scope costs no call across N-API. Always the same buffer.
  exportFn(env, exports, "scopeDepthCell", [](const Napi::CallbackInfo& info) -> Napi::Value {
    napi_env env = info.Env();
    napi_value buffer;
    if (scopeCellRef != nullptr) {
      napi_get_reference_value(env, scopeCellRef, &buffer);
    } else {
      // Over static memory when the runtime allows it, so that nothing JS does to the buffer (even
      // detaching it) can free the cell; otherwise a plain ArrayBuffer that the reference keeps alive.
      static int32_t cell = 0;
      if (napi_create_external_arraybuffer(env, &cell, sizeof(cell), nullptr, nullptr, &buffer) == napi_ok) {
        scopeDepth = &cell;
      } else {
        void* data = nullptr;
        if (napi_create_arraybuffer(env, sizeof(int32_t), &data, &buffer) != napi_ok) throw std::runtime_error("cannot allocate the scope cell");
        *static_cast<int32_t*>(data) = 0;
        scopeDepth = static_cast<const int32_t*>(data);
      }
      napi_create_reference(env, buffer, 1, &scopeCellRef);  // never released: read for the addon's lifetime
    }
    napi_value array;
    napi_create_typedarray(env, napi_int32_array, 1, buffer, 0, &array);
    return Napi::Value(env, array);
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
