// Boxed operator calls: any ATen operator by name, with JS arguments converted by its schema.
#include "common.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

namespace genlab {
namespace {

enum class Kind : uint8_t {
  Tensor, TensorList, OptTensorList, Int, IntList, Float, FloatList, Bool, BoolList,
  Scalar, ScalarList, String, StringList, Device, Generator, Unsupported
};

struct ArgInfo {
  std::string name;
  Kind kind;
  bool optional;
  int n;  // fixed list length (int[2]), 0 when free
  bool hasDefault;
  bool isWrite;  // Tensor(a!) or Tensor(a!)[]: the operator may change it in place
  c10::IValue defaultValue;
  int enumLimit = 0;  // ScalarType, Layout, MemoryFormat (passed as int): valid codes are [0, enumLimit)
  const char* enumName = nullptr;
};

struct OpInfo;
// A check run on the converted arguments before the boxed call (see guards below); throws to refuse.
using Guard = void (*)(const OpInfo& op, std::vector<c10::IValue>& stack);

struct OpInfo {
  c10::OperatorHandle handle;
  std::string fullName;
  std::vector<ArgInfo> args;
  size_t numReturns;
  bool returnsWrittenAlias;  // in-place and out= ops hand back an argument: no new handle needed
  bool writesArgs;           // some argument isWrite: its handles are re-counted after the call
  Guard guard = nullptr;     // most operators have none: the hot path pays one test of a null pointer
  int modeArg = -1;          // index of rounding_mode / sorter / unsafe, for the guard that needs it
};

std::vector<OpInfo> ops;
std::unordered_map<std::string, int32_t> opIds;

Kind classifyPlain(const c10::TypePtr& t) {
  using c10::TypeKind;
  switch (t->kind()) {
    case TypeKind::TensorType: return Kind::Tensor;
    case TypeKind::IntType:
    case TypeKind::SymIntType: return Kind::Int;
    case TypeKind::FloatType: return Kind::Float;
    case TypeKind::BoolType: return Kind::Bool;
    case TypeKind::NumberType: return Kind::Scalar;
    case TypeKind::StringType: return Kind::String;
    case TypeKind::DeviceObjType: return Kind::Device;
    case TypeKind::GeneratorType: return Kind::Generator;
    case TypeKind::ListType: {
      auto elem = t->expectRef<c10::ListType>().getElementType();
      switch (elem->kind()) {
        case TypeKind::TensorType: return Kind::TensorList;
        case TypeKind::OptionalType:
          return elem->expectRef<c10::OptionalType>().getElementType()->kind() == TypeKind::TensorType
                     ? Kind::OptTensorList
                     : Kind::Unsupported;
        case TypeKind::IntType:
        case TypeKind::SymIntType: return Kind::IntList;
        case TypeKind::FloatType: return Kind::FloatList;
        case TypeKind::BoolType: return Kind::BoolList;
        case TypeKind::NumberType: return Kind::ScalarList;
        case TypeKind::StringType: return Kind::StringList;
        default: return Kind::Unsupported;
      }
    }
    default: return Kind::Unsupported;
  }
}

ArgInfo describeArg(const c10::Argument& a) {
  ArgInfo info;
  info.name = a.name();
  c10::TypePtr t = a.type();
  info.optional = t->kind() == c10::TypeKind::OptionalType;
  if (info.optional) t = t->expectRef<c10::OptionalType>().getElementType();
  info.kind = classifyPlain(t);
  // Enumerations travel as ints; libtorch indexes tables with them unchecked (an unknown ScalarType
  // code aborted the process), so their range is checked on the way in.
  c10::TypePtr real = a.real_type();
  if (real->kind() == c10::TypeKind::OptionalType) real = real->expectRef<c10::OptionalType>().getElementType();
  if (real->kind() == c10::TypeKind::ScalarTypeType) {
    info.enumLimit = static_cast<int>(c10::ScalarType::Undefined);
    info.enumName = "ScalarType";
  } else if (real->kind() == c10::TypeKind::LayoutType) {
    info.enumLimit = static_cast<int>(c10::Layout::NumOptions);
    info.enumName = "Layout";
  } else if (real->kind() == c10::TypeKind::MemoryFormatType) {
    info.enumLimit = static_cast<int>(c10::MemoryFormat::NumOptions);
    info.enumName = "MemoryFormat";
  }
  // Named tensors (Dimname) are not supported: their fake type is a string.
  if (a.real_type()->str().find("Dimname") != std::string::npos) info.kind = Kind::Unsupported;
  info.n = a.N() ? static_cast<int>(*a.N()) : 0;
  info.hasDefault = a.default_value().has_value();
  info.isWrite = a.alias_info() != nullptr && a.alias_info()->isWrite();
  if (info.hasDefault) info.defaultValue = *a.default_value();
  return info;
}

const char* kindName(Kind k) {
  switch (k) {
    case Kind::Tensor: return "Tensor";
    case Kind::TensorList: return "Tensor[]";
    case Kind::OptTensorList: return "Tensor?[]";
    case Kind::Int: return "int";
    case Kind::IntList: return "int[]";
    case Kind::Float: return "float";
    case Kind::FloatList: return "float[]";
    case Kind::Bool: return "bool";
    case Kind::BoolList: return "bool[]";
    case Kind::Scalar: return "Scalar";
    case Kind::ScalarList: return "Scalar[]";
    case Kind::String: return "str";
    case Kind::StringList: return "str[]";
    case Kind::Device: return "Device";
    case Kind::Generator: return "Generator";
    default: return "unsupported";
  }
}

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

napi_valuetype typeOf(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t;
}

double numberOf(napi_env env, napi_value v, const ArgInfo& a) {
  napi_valuetype t = typeOf(env, v);
  if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    return b ? 1 : 0;
  }
  if (t != napi_number) throw ArgError("argument '" + a.name + "' expects a number (" + kindName(a.kind) + ")");
  double d;
  napi_get_value_double(env, v, &d);
  return d;
}

int64_t intOf(napi_env env, napi_value v, const ArgInfo& a) {
  double d = numberOf(env, v, a);
  if (std::floor(d) != d) throw ArgError("argument '" + a.name + "' expects an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

// {float: x}: the explicit marker for a floating Scalar (torch.asFloat(2)), so that an integer
// tensor times 2.0 promotes to a floating dtype as in PyTorch.
bool floatMarker(napi_env env, napi_value v, double* d) {
  if (typeOf(env, v) != napi_object) return false;
  bool has = false;
  if (napi_has_named_property(env, v, "float", &has) != napi_ok || !has) return false;
  napi_value x;
  napi_get_named_property(env, v, "float", &x);
  return napi_get_value_double(env, x, d) == napi_ok;
}

c10::Scalar scalarOf(napi_env env, napi_value v, const ArgInfo& a) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    if (floatMarker(env, v, &d)) return c10::Scalar(d);
    bool b;
    if (napi_get_value_bool(env, v, &b) != napi_ok) throw ArgError("argument '" + a.name + "' expects a number");
    return c10::Scalar(b);
  }
  // Integral JS numbers become integer Scalars so integer tensors keep their dtype, as Python ints do
  // (JS cannot tell 2.0 from 2; {float: 2} asks for a double Scalar). A negative zero stays a double:
  // as an integer it would lose its sign (x.mul(-0) must give -0, full([2], -0) must hold -0).
  if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d))) {
    return c10::Scalar(static_cast<int64_t>(d));
  }
  return c10::Scalar(d);
}

ArgError badHandle(const ArgInfo& a, int32_t h) {
  if (h == -1) return ArgError("argument '" + a.name + "' is a disposed tensor" + kDisposedHint);
  return ArgError("argument '" + a.name + "': " + handleProblem(h));
}

// Handles of the arguments the current call may change in place (see OpInfo::writesArgs). A plain
// global like the slot table it indexes (thread_local costs a TLS lookup per access in an addon).
std::vector<int32_t> written;

const at::Tensor& tensorOf(napi_env env, napi_value v, const ArgInfo& a) {
  int32_t h;
  if (napi_get_value_int32(env, v, &h) != napi_ok) throw ArgError("argument '" + a.name + "' must be a Tensor");
  if (!validHandle(h)) throw badHandle(a, h);
  if (a.isWrite) written.push_back(h);
  return tensorAt(h);
}

uint32_t arrayLength(napi_env env, napi_value v, const ArgInfo& a) {
  bool isArray = false;
  napi_is_array(env, v, &isArray);
  if (!isArray) throw ArgError("argument '" + a.name + "' expects an array (" + kindName(a.kind) + ")");
  uint32_t n;
  napi_get_array_length(env, v, &n);
  return n;
}

napi_value elementAt(napi_env env, napi_value arr, uint32_t i) {
  napi_value e;
  napi_get_element(env, arr, i, &e);
  return e;
}

std::string stringOf(napi_env env, napi_value v, const ArgInfo& a) {
  if (typeOf(env, v) != napi_string) throw ArgError("argument '" + a.name + "' expects a string");
  size_t len;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

c10::IValue convertArg(napi_env env, napi_value v, const ArgInfo& a) {
  switch (a.kind) {
    case Kind::Tensor: return c10::IValue(tensorOf(env, v, a));
    case Kind::Int: {
      int64_t x = intOf(env, v, a);
      if (a.enumLimit > 0 && (x < 0 || x >= a.enumLimit)) {
        throw ArgError("argument '" + a.name + "' is not a " + a.enumName + " code (0 to " + std::to_string(a.enumLimit - 1) + "), got " + std::to_string(x));
      }
      return c10::IValue(x);
    }
    case Kind::Float: return c10::IValue(numberOf(env, v, a));
    case Kind::Bool: {
      if (typeOf(env, v) != napi_boolean) throw ArgError("argument '" + a.name + "' expects a boolean");
      bool b;
      napi_get_value_bool(env, v, &b);
      return c10::IValue(b);
    }
    case Kind::Scalar: return c10::IValue(scalarOf(env, v, a));
    case Kind::String: return c10::IValue(stringOf(env, v, a));
    case Kind::Device: return c10::IValue(c10::Device(stringOf(env, v, a)));
    case Kind::Generator: {
      int32_t id = static_cast<int32_t>(intOf(env, v, a));
      return c10::IValue(generatorAt(id));
    }
    case Kind::IntList: {
      if (typeOf(env, v) == napi_number && a.n > 0) {
        return c10::IValue(std::vector<int64_t>(a.n, intOf(env, v, a)));  // stride=2 means [2, 2]
      }
      uint32_t n = arrayLength(env, v, a);
      std::vector<int64_t> xs(n);
      for (uint32_t i = 0; i < n; i++) xs[i] = intOf(env, elementAt(env, v, i), a);
      return c10::IValue(xs);
    }
    case Kind::FloatList: {
      uint32_t n = arrayLength(env, v, a);
      std::vector<double> xs(n);
      for (uint32_t i = 0; i < n; i++) xs[i] = numberOf(env, elementAt(env, v, i), a);
      return c10::IValue(xs);
    }
    case Kind::BoolList: {
      uint32_t n = arrayLength(env, v, a);
      c10::List<bool> xs;
      for (uint32_t i = 0; i < n; i++) {
        bool b;
        if (napi_get_value_bool(env, elementAt(env, v, i), &b) != napi_ok) throw ArgError("argument '" + a.name + "' expects booleans");
        xs.push_back(b);
      }
      return c10::IValue(xs);
    }
    case Kind::ScalarList: {
      uint32_t n = arrayLength(env, v, a);
      std::vector<c10::Scalar> xs;
      for (uint32_t i = 0; i < n; i++) xs.push_back(scalarOf(env, elementAt(env, v, i), a));
      return c10::IValue(xs);
    }
    case Kind::StringList: {
      uint32_t n = arrayLength(env, v, a);
      std::vector<std::string> xs;
      for (uint32_t i = 0; i < n; i++) xs.push_back(stringOf(env, elementAt(env, v, i), a));
      return c10::IValue(xs);
    }
    case Kind::TensorList: {
      uint32_t n = arrayLength(env, v, a);
      std::vector<at::Tensor> xs;
      xs.reserve(n);
      for (uint32_t i = 0; i < n; i++) xs.push_back(tensorOf(env, elementAt(env, v, i), a));
      return c10::IValue(xs);
    }
    case Kind::OptTensorList: {
      uint32_t n = arrayLength(env, v, a);
      c10::List<c10::optional<at::Tensor>> xs;
      for (uint32_t i = 0; i < n; i++) {
        napi_value e = elementAt(env, v, i);
        napi_valuetype t = typeOf(env, e);
        if (t == napi_null || t == napi_undefined) xs.push_back(c10::nullopt);
        else xs.push_back(tensorOf(env, e, a));
      }
      return c10::IValue(xs);
    }
    default: throw ArgError("argument '" + a.name + "' has a type genlab cannot pass");
  }
}

napi_value toJs(napi_env env, const c10::IValue& v);

napi_value listToJs(napi_env env, const std::vector<c10::IValue>& xs) {
  napi_value arr;
  napi_create_array_with_length(env, xs.size(), &arr);
  for (size_t i = 0; i < xs.size(); i++) napi_set_element(env, arr, static_cast<uint32_t>(i), toJs(env, xs[i]));
  return arr;
}

// Converts a returned IValue; tensors become new handles.
napi_value toJs(napi_env env, const c10::IValue& v) {
  napi_value out;
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) {
      napi_get_null(env, &out);
      return out;
    }
    napi_create_int32(env, storeTensor(env, t), &out);
  } else if (v.isNone()) {
    napi_get_null(env, &out);
  } else if (v.isInt()) {
    napi_create_double(env, static_cast<double>(v.toInt()), &out);
  } else if (v.isDouble()) {
    napi_create_double(env, v.toDouble(), &out);
  } else if (v.isBool()) {
    napi_get_boolean(env, v.toBool(), &out);
  } else if (v.isScalar()) {
    napi_create_double(env, v.toScalar().toDouble(), &out);
  } else if (v.isString()) {
    const auto& s = v.toStringRef();
    napi_create_string_utf8(env, s.data(), s.size(), &out);
  } else if (v.isSymInt()) {
    napi_create_double(env, static_cast<double>(v.toSymInt().expect_int()), &out);
  } else if (v.isList()) {
    auto list = v.toListRef();
    return listToJs(env, std::vector<c10::IValue>(list.begin(), list.end()));
  } else if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    return listToJs(env, std::vector<c10::IValue>(elems.begin(), elems.end()));
  } else if (v.isDevice()) {
    std::string s = v.toDevice().str();
    napi_create_string_utf8(env, s.data(), s.size(), &out);
  } else {
    throw std::runtime_error("cannot return a value of type " + v.tagKind());
  }
  return out;
}

std::string describeInputs(napi_env env, const OpInfo& op, size_t argc, napi_value* argv) {
  std::string s;
  for (size_t i = 0; i < op.args.size() && i + 1 < argc; i++) {
    const ArgInfo& a = op.args[i];
    napi_value v = argv[i + 1];
    std::string d;
    if (a.kind == Kind::Tensor) {
      bool ok;
      int32_t h = handleFromValue(env, v, &ok);
      if (!ok) continue;
      d = validHandle(h) ? describeTensor(tensorAt(h)) : h == -1 ? "disposed" : "invalid handle";
    } else if (a.kind == Kind::TensorList || a.kind == Kind::OptTensorList) {
      bool isArray = false;
      napi_is_array(env, v, &isArray);
      if (!isArray) continue;
      uint32_t n;
      napi_get_array_length(env, v, &n);
      d = "[";
      for (uint32_t j = 0; j < n; j++) {
        bool ok;
        int32_t h = handleFromValue(env, elementAt(env, v, j), &ok);
        if (j) d += ", ";
        d += ok && validHandle(h) ? describeTensor(tensorAt(h)) : "None";
      }
      d += "]";
    } else {
      continue;
    }
    if (!s.empty()) s += ", ";
    s += a.name + "=" + d;
  }
  return s.empty() ? "" : " [" + s + "]";
}

// The reused argument stack. A plain global, like the slot table: the addon runs on the main JS
// thread only, and thread_local would cost a TLS lookup on every access from a shared object.
std::vector<c10::IValue> stack;
// napi_get_cb_info pads argv with undefined up to the capacity it is given, so keep that small
// and fall back to a bigger buffer for the few operators with many arguments.
constexpr size_t kFastArgs = 16;

void pushArg(napi_env env, napi_value v, const ArgInfo& a) {
  if (v != nullptr && a.kind == Kind::Tensor) {
    int32_t h;
    if (napi_get_value_int32(env, v, &h) == napi_ok) {  // the common case, in one N-API call
      if (!validHandle(h)) throw badHandle(a, h);
      if (a.isWrite) written.push_back(h);
      stack.emplace_back(tensorAt(h));
      return;
    }
  }
  napi_valuetype t = napi_undefined;
  if (v != nullptr) napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) {
    if (t == napi_undefined && a.hasDefault) stack.push_back(a.defaultValue);
    else if (a.optional) stack.emplace_back();
    else if (a.hasDefault) stack.push_back(a.defaultValue);
    else if (a.kind == Kind::Tensor) throw ArgError("argument '" + a.name + "' must be a Tensor");
    else throw ArgError("missing required argument '" + a.name + "'");
    return;
  }
  stack.push_back(convertArg(env, v, a));
}

// call(opId, ...args): the hot path. Raw N-API and a reused stack keep it allocation-free.
napi_value Call(napi_env env, napi_callback_info info) {
  size_t argc = kFastArgs;
  napi_value fast[kFastArgs];
  std::vector<napi_value> slow;
  napi_value* argv = fast;
  napi_get_cb_info(env, info, &argc, fast, nullptr, nullptr);
  if (argc > kFastArgs) {
    slow.resize(argc);
    napi_get_cb_info(env, info, &argc, slow.data(), nullptr, nullptr);
    argv = slow.data();
  }
  int32_t id = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &id) != napi_ok || id < 0 || static_cast<size_t>(id) >= ops.size()) {
    throwJs(env, "genlab: invalid operator id");
    return nullptr;
  }
  const OpInfo& op = ops[id];
  stack.clear();
  if (op.writesArgs) written.clear();  // only such operators push to it
  // Before any new handle is stored: a storage the operator replaced must be un-counted first.
  auto syncWritten = [env, &op]() {
    if (op.writesArgs) {
      for (int32_t h : written) syncTensor(env, h);
    }
  };
  try {
    for (size_t i = 0; i < op.args.size(); i++) pushArg(env, i + 1 < argc ? argv[i + 1] : nullptr, op.args[i]);
    if (op.guard != nullptr) op.guard(op, stack);
    op.handle.callBoxed(&stack);
    syncWritten();
    napi_value result = nullptr;
    if (op.returnsWrittenAlias) {
      napi_get_undefined(env, &result);
    } else if (op.numReturns == 1) {
      result = toJs(env, stack[0]);
    } else if (op.numReturns == 0) {
      napi_get_undefined(env, &result);
    } else {
      result = listToJs(env, stack);
    }
    stack.clear();
    return result;
  } catch (const c10::Error& e) {
    stack.clear();
    syncWritten();  // a failed out= call may already have resized its output
    throwJs(env, op.fullName + ": " + e.what_without_backtrace() + describeInputs(env, op, argc, argv));
  } catch (const std::exception& e) {
    stack.clear();
    syncWritten();
    throwJs(env, op.fullName + ": " + e.what() + describeInputs(env, op, argc, argv));
  }
  return nullptr;
}

// ---- guards: operators that trust their inputs ----
// libtorch 1.13 checks most arguments, but a few kernels take them on trust and kill the process
// (or read memory they do not own) on bad input. Each such operator gets a guard, chosen by name in
// registerOp and run on the converted arguments just before the boxed call; the rest pay nothing.
//
// Swept (child processes; see test/torch/hardening*.test.ts):
// - Integer division: div (rounding modes), floor_divide, remainder, fmod, in place and out=, with
//   scalar or tensor divisors. libtorch raises "ZeroDivisionError" itself for a zero divisor in every
//   integer dtype, but INT_MIN / -1 traps the CPU (SIGFPE) for int32 and int64 (x86 idiv); int8 and
//   int16 wrap silently to MIN instead (C++ promotes them to int). Guard: when the computation dtype
//   is a signed integer, div/floor_divide refuse MIN / -1 (the quotient 2^(bits-1) does not fit), and
//   remainder/fmod, whose answer 0 does fit, divide by 1 where the divisor is -1 (x % 1 == x % -1 == 0).
//   gcd/lcm do not trap on MIN and -1; shifts do not trap.
// - _local_scalar_dense of an empty tensor reads element 0 of nothing (SIGSEGV); of a many-element
//   tensor it silently gives the first. Guard: exactly one element, as item() requires.
// - searchsorted's sorter is used as indices without bounds checks (an out-of-range sorter gave a
//   made-up answer). Guard: an integer tensor with values in [0, size of the last dimension).
// - Arguments named `unsafe` (segment_reduce, _index_put_impl_) switch libtorch's bounds checks off:
//   refused when true.
// - _sparse_*_tensor_unsafe constructors skip index validation, _reshape_alias takes any strides
//   without a storage check (SIGSEGV on read), and _sobol_engine_draw/_ff_ trust the shape of their
//   state tensors (SIGSEGV, heap corruption): refused, naming the checked way where there is one.
// - ScalarType, Layout and MemoryFormat arguments (ints in the schema) must be valid codes: an
//   unknown ScalarType aborted the process (convertArg; fromBuffer checks its dtype code too).
// - _efficientzerotensor and autograd's zero gradients (sgn, ...) are tensors without memory: every
//   tensor the addon hands to JS is materialised (storeTensor), so none can be read through a null pointer.
// Checked and found safe (they raise): as_strided beyond the storage, _unsafe_view of the wrong size,
// repeat_interleave with a small output_size, segment_reduce with bad lengths (unsafe=False),
// _index_put_impl_ out of range (unsafe=False), embedding, embedding_bag offsets, bincount of
// negatives, histc of NaN, multinomial of NaN, nll_loss targets, ctc_loss lengths, max_unpool2d
// indices, narrow_copy, index_add, take, unfold with step 0, _local_scalar_dense of sparse or meta
// tensors, toBuffer of sparse and meta tensors.
// Not swept: the ~1,800 operators one by one; private `_`-prefixed backward helpers called with
// inconsistent shapes may still trust them.

[[noreturn]] void refuse(const std::string& msg) { throw std::runtime_error(msg); }

int64_t minOf(at::ScalarType t) {
  switch (t) {
    case at::kChar: return std::numeric_limits<int8_t>::min();
    case at::kShort: return std::numeric_limits<int16_t>::min();
    case at::kInt: return std::numeric_limits<int32_t>::min();
    default: return std::numeric_limits<int64_t>::min();
  }
}

// div (with a rounding mode), floor_divide, remainder, fmod: arguments 0 (dividend) and 1 (divisor),
// each a tensor or a Scalar.
void guardIntegerDivision(const OpInfo& op, std::vector<c10::IValue>& stack, bool remainderLike) {
  if (op.modeArg >= 0 && !stack[op.modeArg].isString()) return;  // div without a mode: true division
  c10::IValue& a = stack[0];
  c10::IValue& b = stack[1];
  if (!(a.isTensor() || a.isScalar()) || !(b.isTensor() || b.isScalar())) return;
  at::ScalarType t;
  if (a.isTensor() && b.isTensor()) t = at::result_type(a.toTensor(), b.toTensor());
  else if (a.isTensor()) t = at::result_type(a.toTensor(), b.toScalar());
  else if (b.isTensor()) t = at::result_type(a.toScalar(), b.toTensor());
  else return;
  if (!at::isIntegralType(t, false) || t == at::kByte) return;  // floats, bool and uint8 cannot trap
  const int64_t lo = minOf(t);
  if (b.isScalar()) {
    if (b.toScalar().toLong() != -1) return;
    if (remainderLike) {
      b = c10::IValue(c10::Scalar(int64_t{1}));  // same dtype rules, same (zero) result, no trap
      return;
    }
    bool hasMin = a.isScalar() ? a.toScalar().toLong() == lo : a.toTensor().to(t).eq(lo).any().item<bool>();
    if (hasMin) {
      refuse(std::string("integer overflow: ") + std::to_string(lo) + " divided by -1 does not fit in " + dtypeName(t) +
             " (libtorch would kill the process); divide in a wider or floating dtype");
    }
    return;
  }
  at::Tensor divisor = b.toTensor().to(t);
  at::Tensor minusOne = divisor.eq(-1);
  if (!minusOne.any().item<bool>()) return;
  if (remainderLike) {
    b = c10::IValue(at::where(minusOne, at::ones({}, divisor.options()), divisor));
    return;
  }
  at::Tensor isMin = a.isScalar() ? at::scalar_tensor(a.toScalar().toLong() == lo, at::kBool) : a.toTensor().to(t).eq(lo);
  if (isMin.logical_and(minusOne).any().item<bool>()) {
    refuse(std::string("integer overflow: ") + std::to_string(lo) + " divided by -1 does not fit in " + dtypeName(t) +
           " (libtorch would kill the process); divide in a wider or floating dtype");
  }
}

void guardQuotient(const OpInfo& op, std::vector<c10::IValue>& stack) { guardIntegerDivision(op, stack, false); }
void guardRemainder(const OpInfo& op, std::vector<c10::IValue>& stack) { guardIntegerDivision(op, stack, true); }

void guardLocalScalar(const OpInfo& op, std::vector<c10::IValue>& stack) {
  if (!stack[0].isTensor()) return;
  const at::Tensor& t = stack[0].toTensor();
  if (t.numel() != 1) refuse("a tensor with " + std::to_string(t.numel()) + " elements cannot be converted to a number");
}

void guardSorter(const OpInfo& op, std::vector<c10::IValue>& stack) {
  if (op.modeArg < 0 || !stack[op.modeArg].isTensor()) return;
  const at::Tensor& sorter = stack[op.modeArg].toTensor();
  const at::Tensor& seq = stack[0].toTensor();
  if (!at::isIntegralType(sorter.scalar_type(), false)) refuse("sorter must be an integer tensor, got " + describeTensor(sorter));
  if (sorter.sizes() != seq.sizes()) refuse("sorter " + describeTensor(sorter) + " must have the shape of sorted_sequence " + describeTensor(seq));
  if (sorter.numel() == 0) return;
  const int64_t n = seq.dim() == 0 ? 1 : seq.size(-1);
  const int64_t lo = sorter.min().item<int64_t>();
  const int64_t hi = sorter.max().item<int64_t>();
  if (lo < 0 || hi >= n) {
    refuse("sorter holds index " + std::to_string(lo < 0 ? lo : hi) + ", outside [0, " + std::to_string(n) + ") of the sorted dimension");
  }
}

void guardUnsafeFlag(const OpInfo& op, std::vector<c10::IValue>& stack) {
  if (op.modeArg >= 0 && stack[op.modeArg].isBool() && stack[op.modeArg].toBool()) {
    refuse("unsafe=True switches off libtorch's bounds checks; genlab does not pass it");
  }
}

void guardRefused(const OpInfo& op, std::vector<c10::IValue>& stack) {
  if (op.fullName.rfind("aten::_sobol_engine_", 0) == 0) {
    refuse("refused: SobolEngine's internal state is trusted without checks (a wrong shape corrupted the heap)");
  }
  if (op.fullName.rfind("aten::_reshape_alias", 0) == 0) {
    refuse("refused: it takes any strides without checking them against the storage; use as_strided or reshape");
  }
  refuse("refused: it skips libtorch's index validation; use the checked constructor (sparse_coo_tensor, sparse_csr_tensor, ...)");
}

int argIndex(const OpInfo& op, const char* name) {
  for (size_t i = 0; i < op.args.size(); i++) {
    if (op.args[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void chooseGuard(OpInfo& info, const std::string& name) {
  const std::string base = name.substr(0, name.find('.'));
  if (base == "aten::div" || base == "aten::div_" || base == "aten::floor_divide" || base == "aten::floor_divide_") {
    info.modeArg = argIndex(info, "rounding_mode");
    // div without a rounding_mode argument is true division; floor_divide always divides integers.
    if (base.rfind("aten::div", 0) == 0 && info.modeArg < 0) return;
    if (info.args.size() >= 2) info.guard = guardQuotient;
  } else if (base == "aten::remainder" || base == "aten::remainder_" || base == "aten::fmod" || base == "aten::fmod_") {
    if (info.args.size() >= 2) info.guard = guardRemainder;
  } else if (base == "aten::_local_scalar_dense") {
    info.guard = guardLocalScalar;
  } else if (base == "aten::searchsorted") {
    info.modeArg = argIndex(info, "sorter");
    if (info.modeArg >= 0) info.guard = guardSorter;
  } else if (base == "aten::_reshape_alias" || base.rfind("aten::_sobol_engine_", 0) == 0 ||
             (base.rfind("aten::_sparse_", 0) == 0 && base.size() > 7 && base.compare(base.size() - 7, 7, "_unsafe") == 0)) {
    info.guard = guardRefused;
  } else {
    info.modeArg = argIndex(info, "unsafe");
    if (info.modeArg >= 0 && info.args[info.modeArg].kind == Kind::Bool) info.guard = guardUnsafeFlag;
    else info.modeArg = -1;
  }
}

int32_t registerOp(const c10::OperatorHandle& handle) {
  const auto& schema = handle.schema();
  OpInfo info{handle, schema.name() + (schema.overload_name().empty() ? "" : "." + schema.overload_name()), {}, schema.returns().size(), false, false};
  for (const auto& a : schema.arguments()) {
    info.args.push_back(describeArg(a));
    if (info.args.back().isWrite) info.writesArgs = true;
  }
  bool allWrite = !schema.returns().empty();
  for (const auto& r : schema.returns()) {
    if (!r.alias_info() || !r.alias_info()->isWrite() || r.type()->kind() != c10::TypeKind::TensorType) allWrite = false;
  }
  info.returnsWrittenAlias = allWrite;
  chooseGuard(info, info.fullName);
  ops.push_back(std::move(info));
  return static_cast<int32_t>(ops.size() - 1);
}

Napi::Value Lookup(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    throw Napi::Error::New(info.Env(), "genlab: no operator " + name + (overload.empty() ? "" : "." + overload) + " in this libtorch");
  }
  std::string full = name + (overload.empty() ? "" : "." + overload);
  auto known = opIds.find(full);
  if (known != opIds.end()) return Napi::Number::New(info.Env(), known->second);
  int32_t id = registerOp(*handle);
  opIds.emplace(full, id);
  return Napi::Number::New(info.Env(), id);
}

Napi::Value ivalueToPlainJs(Napi::Env env, const c10::IValue& v) {
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isIntList()) {
    auto xs = v.toIntVector();
    auto arr = Napi::Array::New(env, xs.size());
    for (size_t i = 0; i < xs.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(xs[i])));
    return arr;
  }
  if (v.isDoubleList()) {
    auto xs = v.toDoubleVector();
    auto arr = Napi::Array::New(env, xs.size());
    for (size_t i = 0; i < xs.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, xs[i]));
    return arr;
  }
  if (v.isBoolList()) {
    auto xs = v.toBoolList();
    auto arr = Napi::Array::New(env, xs.size());
    for (size_t i = 0; i < xs.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, xs.get(i)));
    return arr;
  }
  if (v.isList() && v.toListRef().empty()) return Napi::Array::New(env, 0);
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  if (v.isDevice()) return Napi::String::New(env, v.toDevice().str());
  return Napi::String::New(env, "<" + v.tagKind() + ">");
}

// Every registered operator schema, structured, for the wrapper generator.
Napi::Value ListSchemas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto names = c10::Dispatcher::singleton().getAllOpNames();
  auto out = Napi::Array::New(env);
  uint32_t k = 0;
  for (const auto& opName : names) {
    auto handle = c10::Dispatcher::singleton().findSchema(opName);
    if (!handle || !handle->hasSchema()) continue;
    const auto& schema = handle->schema();
    auto o = Napi::Object::New(env);
    o.Set("name", schema.name());
    o.Set("overload", schema.overload_name());
    std::ostringstream ss;
    ss << schema;
    o.Set("schema", ss.str());
    auto args = Napi::Array::New(env);
    uint32_t i = 0;
    bool supported = true;
    for (const auto& a : schema.arguments()) {
      ArgInfo ai = describeArg(a);
      if (ai.kind == Kind::Unsupported) supported = false;
      auto ao = Napi::Object::New(env);
      ao.Set("name", a.name());
      ao.Set("type", a.real_type()->annotation_str());
      ao.Set("kind", kindName(ai.kind));
      ao.Set("optional", ai.optional);
      ao.Set("n", ai.n);
      ao.Set("kwargOnly", a.kwarg_only());
      ao.Set("isWrite", a.alias_info() != nullptr && a.alias_info()->isWrite());
      if (ai.hasDefault) ao.Set("default", ivalueToPlainJs(env, ai.defaultValue));
      args.Set(i++, ao);
    }
    o.Set("args", args);
    auto rets = Napi::Array::New(env);
    i = 0;
    bool allWrite = !schema.returns().empty();
    for (const auto& r : schema.returns()) {
      auto ro = Napi::Object::New(env);
      ro.Set("name", r.name());
      ro.Set("type", r.real_type()->annotation_str());
      ro.Set("kind", kindName(classifyPlain(r.type())));
      bool write = r.alias_info() && r.alias_info()->isWrite();
      ro.Set("isWrite", write);
      if (!write || r.type()->kind() != c10::TypeKind::TensorType) allWrite = false;
      rets.Set(i++, ro);
    }
    o.Set("returns", rets);
    o.Set("returnsWrittenAlias", allWrite);
    o.Set("supported", supported);
    out.Set(k++, o);
  }
  return out;
}

}  // namespace

void registerOpFunctions(Napi::Env env, Napi::Object exports) {
  stack.reserve(64);
  written.reserve(64);
  napi_value fn;
  napi_create_function(env, "call", NAPI_AUTO_LENGTH, Call, nullptr, &fn);
  exports.Set("call", fn);
  exportFn(env, exports, "lookup", Lookup);
  exportFn(env, exports, "listSchemas", ListSchemas);
}

}  // namespace genlab
