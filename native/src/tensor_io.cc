// Moving data between JS typed arrays and tensors, and reading tensor metadata.
#include "common.h"
#include <cstring>
#include <stdexcept>

namespace genlab {
namespace {

Napi::Array intArray(Napi::Env env, c10::IntArrayRef xs) {
  auto arr = Napi::Array::New(env, xs.size());
  for (size_t i = 0; i < xs.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(xs[i])));
  return arr;
}

std::vector<int64_t> shapeArg(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("shape must be an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> shape(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsNumber()) throw std::runtime_error("shape must be an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<double>(static_cast<int64_t>(d))) throw std::runtime_error("invalid shape entry " + std::to_string(d));
    shape[i] = static_cast<int64_t>(d);
  }
  return shape;
}

}  // namespace

void registerIoFunctions(Napi::Env env, Napi::Object exports) {
  // fromBuffer(typedArray, shape, scalarTypeCode): copies the bytes into a new CPU tensor.
  exportFn(env, exports, "fromBuffer", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (!info[0].IsTypedArray()) throw std::runtime_error("data must be a TypedArray");
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = shapeArg(info[1]);
    const int32_t code = info[2].As<Napi::Number>().Int32Value();
    if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::Undefined)) throw std::runtime_error("unknown dtype code " + std::to_string(code));
    auto dtype = static_cast<at::ScalarType>(code);
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t need = t.nbytes();
    if (ta.ByteLength() != need) {
      throw std::runtime_error("data has " + std::to_string(ta.ByteLength()) + " bytes but shape " + describeTensor(t) + " needs " + std::to_string(need));
    }
    auto* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (need) std::memcpy(t.data_ptr(), src, need);
    return newHandle(info.Env(), std::move(t));
  });
  // toBuffer(h): a copy of the tensor's elements, in row-major order, as an ArrayBuffer.
  exportFn(env, exports, "toBuffer", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor t = materialised(tensorArg(info, 0).detach()).to(at::kCPU).contiguous();
    if (t.nbytes() && t.data_ptr() == nullptr) throw std::runtime_error("tensor " + describeTensor(t) + " has no memory to read");
    auto buf = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
    if (t.nbytes()) std::memcpy(buf.Data(), t.data_ptr(), t.nbytes());
    return buf;
  });
  exportFn(env, exports, "item", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& t = tensorArg(info, 0);
    if (t.numel() != 1) throw std::runtime_error("a tensor with " + std::to_string(t.numel()) + " elements cannot be converted to a number");
    at::Scalar s = materialised(t).item();
    if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
    if (s.isIntegral(false)) {
      // A JS number holds integers exactly only up to 2^53; refuse rather than round.
      const int64_t v = s.toLong();
      constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;
      if (v > kMaxSafe || v < -kMaxSafe) {
        throw std::runtime_error("item(): the integer " + std::to_string(v) +
                                 " is beyond 2^53 - 1, where JS numbers lose digits; toTypedArray() gives it exactly");
      }
      return Napi::Number::New(info.Env(), static_cast<double>(v));
    }
    return Napi::Number::New(info.Env(), s.toDouble());
  });
  exportFn(env, exports, "shape", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return intArray(info.Env(), tensorArg(info, 0).sizes());
  });
  exportFn(env, exports, "strides", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return intArray(info.Env(), tensorArg(info, 0).strides());
  });
  exportFn(env, exports, "dtype", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<int>(tensorArg(info, 0).scalar_type()));
  });
  exportFn(env, exports, "device", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), tensorArg(info, 0).device().str());
  });
  exportFn(env, exports, "numel", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(tensorArg(info, 0).numel()));
  });
  exportFn(env, exports, "dim", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(tensorArg(info, 0).dim()));
  });
  // isContiguous(h, format?): format as memoryFormatCode in src/torch/dtype.ts, 0 (row-major) when absent.
  exportFn(env, exports, "isContiguous", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const int format = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
    const at::Tensor& t = tensorArg(info, 0);
    switch (format) {
      case 0: return Napi::Boolean::New(info.Env(), t.is_contiguous());
      case 2: return Napi::Boolean::New(info.Env(), t.is_contiguous(at::MemoryFormat::ChannelsLast));
      case 3: return Napi::Boolean::New(info.Env(), t.is_contiguous(at::MemoryFormat::ChannelsLast3d));
      default: throw std::invalid_argument("isContiguous: memory format must be contiguous, channelsLast or channelsLast3d");
    }
  });
  exportFn(env, exports, "describe", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), describeTensor(tensorArg(info, 0)));
  });
  // alias(h): a second handle to the same tensor, for values that must outlive a scope independently.
  exportFn(env, exports, "alias", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return newHandle(info.Env(), tensorArg(info, 0));
  });
  // assign(dst, src): makes dst's handle point at src's tensor (used by in-place parameter swaps).
  exportFn(env, exports, "setData", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor dst = tensorArg(info, 0);
    dst.set_data(tensorArg(info, 1));
    syncTensor(info.Env(), handleArg(info, 0));  // dst's handles now hold src's storage
    return info.Env().Undefined();
  });
}

}  // namespace genlab
