// Autograd: backward, grad (with higher order), gradient fields and grad/inference-mode guards.
#include "common.h"
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <memory>
#include <vector>

namespace genlab {
namespace {

std::vector<at::Tensor> tensorList(const Napi::Value& v, bool allowNull) {
  std::vector<at::Tensor> out;
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) throw std::runtime_error("expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (allowNull && (e.IsNull() || e.IsUndefined())) {
      out.emplace_back();
    } else {
      if (!e.IsNumber()) throw std::runtime_error("element " + std::to_string(i) + " is not a Tensor");
      out.push_back(tensorAt(e.As<Napi::Number>().Int32Value()));
    }
  }
  return out;
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, bool fallback) {
  return i < info.Length() && info[i].IsBoolean() ? info[i].As<Napi::Boolean>().Value() : fallback;
}

// Inference-mode guards are RAII objects in C++; JS scopes push and pop them in order.
std::vector<std::unique_ptr<c10::InferenceMode>> inferenceGuards;

}  // namespace

void registerAutogradFunctions(Napi::Env env, Napi::Object exports) {
  // backward(tensor, grad|null, retainGraph, createGraph, inputs?)
  exportFn(env, exports, "backward", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor t = tensorArg(info, 0);
    std::vector<at::Tensor> grads;
    if (info.Length() > 1 && info[1].IsNumber()) grads.push_back(tensorArg(info, 1));
    bool create = boolArg(info, 3, false);
    c10::optional<bool> retain;
    if (info.Length() > 2 && info[2].IsBoolean()) retain = info[2].As<Napi::Boolean>().Value();
    std::vector<at::Tensor> inputs = info.Length() > 4 ? tensorList(info[4], false) : std::vector<at::Tensor>{};
    torch::autograd::backward({t}, grads, retain, create, inputs);
    return info.Env().Undefined();
  });
  // grad(outputs[], inputs[], gradOutputs[]|null, retainGraph|undefined, createGraph, allowUnused)
  exportFn(env, exports, "grad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto outputs = tensorList(info[0], false);
    auto inputs = tensorList(info[1], false);
    auto gradOutputs = tensorList(info[2], true);
    c10::optional<bool> retain;
    if (info.Length() > 3 && info[3].IsBoolean()) retain = info[3].As<Napi::Boolean>().Value();
    bool create = boolArg(info, 4, false);
    bool allowUnused = boolArg(info, 5, false);
    auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    auto arr = Napi::Array::New(info.Env(), grads.size());
    for (size_t i = 0; i < grads.size(); i++) arr.Set(static_cast<uint32_t>(i), newHandle(info.Env(), grads[i]));
    return arr;
  });
  exportFn(env, exports, "requiresGrad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), tensorArg(info, 0).requires_grad());
  });
  exportFn(env, exports, "setRequiresGrad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor t = tensorArg(info, 0);
    t.set_requires_grad(boolArg(info, 1, true));
    return info.Env().Undefined();
  });
  exportFn(env, exports, "getGrad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor t = tensorArg(info, 0);
    // A gradient without memory (autograd's zero tensor, e.g. of sgn) is replaced by real zeros in
    // place, so the handle JS gets is the tensor later backward passes accumulate into.
    if (t.grad().defined() && t.grad()._is_zerotensor()) t.mutable_grad() = materialised(t.grad());
    return newHandle(info.Env(), t.grad());
  });
  exportFn(env, exports, "setGrad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    at::Tensor t = tensorArg(info, 0);
    t.mutable_grad() = info.Length() > 1 && info[1].IsNumber() ? tensorArg(info, 1) : at::Tensor();
    return info.Env().Undefined();
  });
  exportFn(env, exports, "isLeaf", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_leaf());
  });
  exportFn(env, exports, "retainGrad", [](const Napi::CallbackInfo& info) -> Napi::Value {
    tensorArg(info, 0).retain_grad();
    return info.Env().Undefined();
  });
  exportFn(env, exports, "gradFn", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const auto& fn = tensorArg(info, 0).grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  });
  exportFn(env, exports, "setGradEnabled", [](const Napi::CallbackInfo& info) -> Napi::Value {
    bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(boolArg(info, 0, true));
    return Napi::Boolean::New(info.Env(), previous);
  });
  exportFn(env, exports, "isGradEnabled", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
  });
  exportFn(env, exports, "enterInferenceMode", [](const Napi::CallbackInfo& info) -> Napi::Value {
    inferenceGuards.push_back(std::make_unique<c10::InferenceMode>(boolArg(info, 0, true)));
    return Napi::Number::New(info.Env(), static_cast<double>(inferenceGuards.size()));
  });
  exportFn(env, exports, "exitInferenceMode", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (!inferenceGuards.empty()) inferenceGuards.pop_back();
    return Napi::Number::New(info.Env(), static_cast<double>(inferenceGuards.size()));
  });
  exportFn(env, exports, "isInferenceMode", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), c10::InferenceMode::is_enabled());
  });
  exportFn(env, exports, "isInference", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_inference());
  });
}

}  // namespace genlab
