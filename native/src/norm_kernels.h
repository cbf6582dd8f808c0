// GroupNorm pieces shared by the norm kernels (norm_kernels.cc, norm_silu_kernels.cc).
#pragma once
#include <ATen/ATen.h>
#include <vector>

namespace genlab {

// GroupNorm's backward as differentiable ATen ops, for create_graph: {dx, dweight, dbias} of the
// output gradient dy, for x [N, C, H, W] in any layout and gamma [C].
std::vector<at::Tensor> groupNormDifferentiableBackward(const at::Tensor& dy, const at::Tensor& x,
                                                        const at::Tensor& gamma, int64_t groups, double eps);

}  // namespace genlab
