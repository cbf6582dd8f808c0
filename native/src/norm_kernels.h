// GroupNorm pieces shared by the norm kernels (norm_kernels.cc, norm_silu_kernels.cc).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <vector>

namespace genlab {

// GroupNorm's backward as differentiable ATen ops, for create_graph: {dx, dweight, dbias} of the
// output gradient dy, for x [N, C, H, W] in any layout and gamma [C].
std::vector<at::Tensor> groupNormDifferentiableBackward(const at::Tensor& dy, const at::Tensor& x,
                                                        const at::Tensor& gamma, int64_t groups, double eps);

// The arguments (x, weight|null, bias|null, groups, eps) of the norm kernels' JS functions, checked
// but for x's layout, which each kernel checks itself. Weight and bias are ones and zeros when the
// caller has none: libtorch 1.13's custom functions cannot take an undefined tensor.
struct GroupNormArgs {
  at::Tensor x, gamma, beta;
  int64_t groups;
  double eps;
};
GroupNormArgs groupNormArgs(const Napi::CallbackInfo& info);

}  // namespace genlab
