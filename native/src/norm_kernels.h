// GroupNorm pieces shared by the norm kernels (defined in norm_kernels.cc, used by norm_silu_kernels.cc too).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

// ---- one channels-last example, a [pixels, channels] block of rows of channels ----

// The mean and 1/std of each of its groups of channels, from per-channel sums taken about the first
// pixel (sum and sq: scratch of `channels` values each; mean and rstd: `groups` values each).
void channelsLastGroupStats(const float* xe, int64_t pixels, int64_t channels, int64_t groups, double eps, double* sum,
                            double* sq, double* mean, double* rstd);

// out[p, c] = u[c]·a[p, c] + v[c]·(b[p, c] − kb[c]) + w[c]; b may be null (no second term), and out may be a.
void channelAffine(const float* a, const float* b, const float* kb, float* out, int64_t pixels, int64_t channels,
                   const float* u, const float* v, const float* w);

#if defined(__x86_64__)
// out[j] += v[j] for the 8 lanes, in double: where the kernels' float partial sums end each run.
__attribute__((target("avx2,fma"))) inline void addLanes(__m256 v, double* out) {
  _mm256_storeu_pd(out, _mm256_add_pd(_mm256_loadu_pd(out), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
  _mm256_storeu_pd(out + 4, _mm256_add_pd(_mm256_loadu_pd(out + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}
#endif

}  // namespace genlab
