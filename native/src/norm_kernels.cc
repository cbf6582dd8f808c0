// Group normalisation (Wu & He 2018) of channels-last tensors, as one autograd node.
//
// Why: libtorch 1.13's CPU group_norm has no fast path for a channels-last [N, C, H, W] tensor. In
// a PyTorch profile of the VDM U-Net in that layout its forward took 11 times, and its backward 3
// times, as long as on the row-major tensor, more than oneDNN's convolutions gained from the
// layout. Here each example is two passes over its [H·W, C] rows forward (per-channel sums, then
// the affine map) and two backward (per-channel sums of dy and dy·x, then dx), each row a vector of
// channels.
//
// The sums are taken about a pivot near the mean (the example's first pixel forward, the group
// mean backward), in float over runs of 256 pixels and in double across runs, so a large mean does
// not cancel the variance away. The numbers agree with ATen's row-major group_norm to float32
// rounding, not bit for bit. Under create_graph the backward is the same formula in
// differentiable ATen ops, so a second derivative exists (libtorch 1.13 has none for its own).
#include "common.h"
#include "norm_kernels.h"
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <algorithm>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <cmath>
#include <stdexcept>
#include <vector>

namespace genlab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- row kernels over one example's [pixels, channels] block; built for AVX2 and plain x86-64 ----

// Per-channel sums over one example's pixels, relative to per-channel pivots ka and kb:
//   s[c] = Σ_p (a[p, c] − ka[c]),   t[c] = Σ_p (a[p, c] − ka[c]) · (b[p, c] − kb[c]).
// Forward, a = b = x and the pivot is the example's first pixel, so the squares do not cancel
// against a large mean; backward, a = dy (pivot 0) and b = x with the group's mean as pivot.
// Partial sums build up in float registers over runs of kFlush pixels, then add into double.
constexpr int64_t kFlush = 256;

void pivotedSumsScalar(const float* a, const float* b, const float* ka, const float* kb, int64_t pixels,
                       int64_t channels, int64_t firstChannel, double* s, double* t) {
  for (int64_t c = firstChannel; c < channels; c++) {
    double sc = 0, tc = 0;
    for (int64_t p = 0; p < pixels; p++) {
      const double da = a[p * channels + c] - ka[c];
      sc += da;
      tc += da * (b[p * channels + c] - kb[c]);
    }
    s[c] = sc;
    t[c] = tc;
  }
}

#if defined(__x86_64__)
// V·8 channels at a time, their sums in registers, one pass over the pixels per V·8 channels (so a
// block that does not fit the cache is read as few times as the registers allow).
template <int V>
__attribute__((target("avx2,fma"))) void pivotedSumsAvx2(const float* a, const float* b, const float* ka,
                                                          const float* kb, int64_t pixels, int64_t channels, int64_t c,
                                                          double* s, double* t) {
  __m256 pa[V], pb[V];
  for (int j = 0; j < V; j++) {
    pa[j] = _mm256_loadu_ps(ka + c + 8 * j);
    pb[j] = _mm256_loadu_ps(kb + c + 8 * j);
  }
  std::fill(s + c, s + c + 8 * V, 0.0);
  std::fill(t + c, t + c + 8 * V, 0.0);
  for (int64_t p0 = 0; p0 < pixels; p0 += kFlush) {
    __m256 vs[V], vt[V];
    for (int j = 0; j < V; j++) vs[j] = vt[j] = _mm256_setzero_ps();
    const int64_t p1 = std::min(pixels, p0 + kFlush);
    for (int64_t p = p0; p < p1; p++) {
      const float* ra = a + p * channels + c;
      const float* rb = b + p * channels + c;
      for (int j = 0; j < V; j++) {
        const __m256 da = _mm256_sub_ps(_mm256_loadu_ps(ra + 8 * j), pa[j]);
        const __m256 db = _mm256_sub_ps(_mm256_loadu_ps(rb + 8 * j), pb[j]);
        vs[j] = _mm256_add_ps(vs[j], da);
        vt[j] = _mm256_fmadd_ps(da, db, vt[j]);
      }
    }
    for (int j = 0; j < V; j++) {
      addLanes(vs[j], s + c + 8 * j);
      addLanes(vt[j], t + c + 8 * j);
    }
  }
}

__attribute__((target("avx2,fma"))) void pivotedSumsAvx2(const float* a, const float* b, const float* ka,
                                                          const float* kb, int64_t pixels, int64_t channels, double* s,
                                                          double* t) {
  int64_t c = 0;
  for (; c + 32 <= channels; c += 32) pivotedSumsAvx2<4>(a, b, ka, kb, pixels, channels, c, s, t);
  for (; c + 8 <= channels; c += 8) pivotedSumsAvx2<1>(a, b, ka, kb, pixels, channels, c, s, t);
  pivotedSumsScalar(a, b, ka, kb, pixels, channels, c, s, t);
}
#endif

void pivotedSums(const float* a, const float* b, const float* ka, const float* kb, int64_t pixels, int64_t channels,
                 double* s, double* t) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return pivotedSumsAvx2(a, b, ka, kb, pixels, channels, s, t);
#endif
  pivotedSumsScalar(a, b, ka, kb, pixels, channels, 0, s, t);
}

// out[p, c] = u[c] · a[p, c] + v[c] · (b[p, c] − kb[c]) + w[c] (b may be null: no second term).
void channelAffineScalar(const float* a, const float* b, const float* kb, float* out, int64_t pixels,
                         int64_t channels, int64_t firstChannel, const float* u, const float* v, const float* w) {
  for (int64_t p = 0; p < pixels; p++) {
    for (int64_t c = firstChannel; c < channels; c++) {
      const int64_t i = p * channels + c;
      out[i] = u[c] * a[i] + (b == nullptr ? 0.0f : v[c] * (b[i] - kb[c])) + w[c];
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void channelAffineAvx2(const float* a, const float* b, const float* kb, float* out,
                                                            int64_t pixels, int64_t channels, const float* u,
                                                            const float* v, const float* w) {
  const int64_t vecChannels = channels / 8 * 8;
  for (int64_t p = 0; p < pixels; p++) {
    const int64_t row = p * channels;
    for (int64_t c = 0; c < vecChannels; c += 8) {
      __m256 r = _mm256_fmadd_ps(_mm256_loadu_ps(u + c), _mm256_loadu_ps(a + row + c), _mm256_loadu_ps(w + c));
      if (b != nullptr) {
        const __m256 db = _mm256_sub_ps(_mm256_loadu_ps(b + row + c), _mm256_loadu_ps(kb + c));
        r = _mm256_fmadd_ps(_mm256_loadu_ps(v + c), db, r);
      }
      _mm256_storeu_ps(out + row + c, r);
    }
  }
  if (vecChannels < channels) channelAffineScalar(a, b, kb, out, pixels, channels, vecChannels, u, v, w);
}
#endif

}  // namespace

void channelAffine(const float* a, const float* b, const float* kb, float* out, int64_t pixels, int64_t channels,
                   const float* u, const float* v, const float* w) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return channelAffineAvx2(a, b, kb, out, pixels, channels, u, v, w);
#endif
  channelAffineScalar(a, b, kb, out, pixels, channels, 0, u, v, w);
}

void channelsLastGroupStats(const float* xe, int64_t pixels, int64_t channels, int64_t groups, double eps, double* sum,
                            double* sq, double* mean, double* rstd) {
  const float* pivot = xe;  // the example's first pixel, one value per channel
  pivotedSums(xe, xe, pivot, pivot, pixels, channels, sum, sq);
  const int64_t perGroup = channels / groups;
  const double count = static_cast<double>(perGroup * pixels);
  for (int64_t g = 0; g < groups; g++) {
    const int64_t c0 = g * perGroup, c1 = c0 + perGroup;
    double total = 0;
    for (int64_t c = c0; c < c1; c++) total += sum[c] + pixels * static_cast<double>(pivot[c]);
    const double m = total / count;
    // Σ (x − m)² per channel from its pivoted sums: T + 2(k − m)S + P(k − m)².
    double squares = 0;
    for (int64_t c = c0; c < c1; c++) {
      const double km = pivot[c] - m;
      squares += sq[c] + 2 * km * sum[c] + pixels * km * km;
    }
    mean[g] = m;
    rstd[g] = 1.0 / std::sqrt(std::max(squares / count, 0.0) + eps);
  }
}

namespace {

struct Shape {
  int64_t n, c, pixels, groups, perGroup;  // perGroup: channels per group
  explicit Shape(const at::Tensor& x, int64_t g)
      : n(x.size(0)), c(x.size(1)), pixels(x.size(2) * x.size(3)), groups(g), perGroup(x.size(1) / g) {}
  double count() const { return static_cast<double>(perGroup * pixels); }  // values per (example, group)
};


std::vector<at::Tensor> forwardKernel(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta,
                                      int64_t groups, double eps) {
  const Shape s(x, groups);
  at::Tensor y = at::empty_like(x);
  at::Tensor mean = at::empty({s.n, s.groups}, x.options().memory_format(at::MemoryFormat::Contiguous));
  at::Tensor rstd = at::empty_like(mean);
  const float* px = x.data_ptr<float>();
  float* py = y.data_ptr<float>();
  float *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>();
  const float *pGamma = gamma.data_ptr<float>(), *pBeta = beta.data_ptr<float>();
  const int64_t block = s.pixels * s.c;
  at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> sum(s.c), sq(s.c), stats(2 * s.groups);
    std::vector<float> scale(s.c), shift(s.c);
    for (int64_t e = begin; e < end; e++) {
      const float* xe = px + e * block;
      double* m = stats.data();
      double* r = stats.data() + s.groups;
      channelsLastGroupStats(xe, s.pixels, s.c, s.groups, eps, sum.data(), sq.data(), m, r);
      for (int64_t g = 0; g < s.groups; g++) {
        pm[e * s.groups + g] = static_cast<float>(m[g]);
        pr[e * s.groups + g] = static_cast<float>(r[g]);
        for (int64_t c = g * s.perGroup; c < (g + 1) * s.perGroup; c++) {
          scale[c] = static_cast<float>(r[g] * pGamma[c]);
          shift[c] = static_cast<float>(pBeta[c] - m[g] * scale[c]);
        }
      }
      channelAffine(xe, nullptr, nullptr, py + e * block, s.pixels, s.c, scale.data(), nullptr, shift.data());
    }
  });
  return {y, mean, rstd};
}

// With x̂ = (x − μ)·r and y = γ·x̂ + β, per (example, group) of M values:
//   dx = r·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)) = (rγ)·dy − r²B·(x − μ) − rA,
//   A = mean(γ·dy), B = mean(γ·dy·x̂);
//   dγ = Σ dy·x̂, dβ = Σ dy, over examples and pixels.
std::vector<at::Tensor> backwardKernel(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& mean,
                                       const at::Tensor& rstd, const at::Tensor& gamma, bool wantAffine) {
  const Shape s(x, mean.size(1));
  at::Tensor dx = at::empty_like(x);
  const float *pdy = dy.data_ptr<float>(), *px = x.data_ptr<float>();
  const float *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>();
  const float* pGamma = gamma.data_ptr<float>();
  float* pdx = dx.data_ptr<float>();
  const int64_t block = s.pixels * s.c;
  // Per-example contributions to dγ and dβ, summed after the parallel loop in a fixed order.
  std::vector<double> dGamma(s.n * s.c), dBeta(s.n * s.c);
  at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> sumDy(s.c), sumDyX(s.c);
    std::vector<float> u(s.c), v(s.c), w(s.c), zero(s.c, 0.0f), means(s.c);
    for (int64_t e = begin; e < end; e++) {
      for (int64_t c = 0; c < s.c; c++) means[c] = pm[e * s.groups + c / s.perGroup];
      pivotedSums(pdy + e * block, px + e * block, zero.data(), means.data(), s.pixels, s.c, sumDy.data(), sumDyX.data());
      for (int64_t g = 0; g < s.groups; g++) {
        const double r = pr[e * s.groups + g];
        double a = 0, b = 0;
        for (int64_t c = g * s.perGroup; c < (g + 1) * s.perGroup; c++) {
          const double dyXhat = sumDyX[c] * r;  // Σ dy·x̂ over the channel's pixels
          const double gm = pGamma[c];
          a += gm * sumDy[c];
          b += gm * dyXhat;
          dGamma[e * s.c + c] = dyXhat;
          dBeta[e * s.c + c] = sumDy[c];
        }
        a /= s.count();
        b /= s.count();
        for (int64_t c = g * s.perGroup; c < (g + 1) * s.perGroup; c++) {
          u[c] = static_cast<float>(r * pGamma[c]);
          v[c] = static_cast<float>(-r * r * b);
          w[c] = static_cast<float>(-r * a);
        }
      }
      channelAffine(pdy + e * block, px + e * block, means.data(), pdx + e * block, s.pixels, s.c, u.data(), v.data(),
                    w.data());
    }
  });
  at::Tensor gGamma, gBeta;
  if (wantAffine) {
    gGamma = at::empty({s.c}, x.options().memory_format(at::MemoryFormat::Contiguous));
    gBeta = at::empty_like(gGamma);
    float *pg = gGamma.data_ptr<float>(), *pb = gBeta.data_ptr<float>();
    for (int64_t c = 0; c < s.c; c++) {
      double tg = 0, tb = 0;
      for (int64_t e = 0; e < s.n; e++) tg += dGamma[e * s.c + c], tb += dBeta[e * s.c + c];
      pg[c] = static_cast<float>(tg);
      pb[c] = static_cast<float>(tb);
    }
  }
  return {dx, gGamma, gBeta};
}

bool isChannelsLastFloat(const at::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.dim() == 4 &&
         t.is_contiguous(at::MemoryFormat::ChannelsLast);
}

}  // namespace

// The backward as differentiable ATen ops on a row-major copy, for create_graph: mean and 1/std
// are recomputed from x so that their own dependence on x is in the graph.
std::vector<at::Tensor> groupNormDifferentiableBackward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& gamma,
                                               int64_t groups, double eps) {
  const Shape s(x, groups);
  const at::Tensor xg = x.contiguous().view({s.n, s.groups, -1});
  const at::Tensor m = xg.mean(-1, true);
  const at::Tensor r = ((xg - m).square().mean(-1, true) + eps).rsqrt();
  const at::Tensor xhat = ((xg - m) * r).view(x.sizes());
  const at::Tensor dxhat = (dy * gamma.view({1, -1, 1, 1})).contiguous().view({s.n, s.groups, -1});
  const at::Tensor xh = xhat.view({s.n, s.groups, -1});
  const at::Tensor dx = r * (dxhat - dxhat.mean(-1, true) - xh * (dxhat * xh).mean(-1, true));
  return {dx.view(x.sizes()), (dy * xhat).sum({0, 2, 3}), dy.sum({0, 2, 3})};
}

namespace {

// Weight and bias are always tensors here (see GroupNormArgs).
struct GroupNormChannelsLast : public torch::autograd::Function<GroupNormChannelsLast> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                            const at::Tensor& beta, int64_t groups, double eps) {
    auto out = forwardKernel(x, gamma, beta, groups, eps);
    ctx->save_for_backward({x, gamma, out[1], out[2]});
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["eps"] = eps;
    return out[0];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gamma = saved[1], &mean = saved[2], &rstd = saved[3];
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const at::Tensor& dy = grads[0];
    std::vector<at::Tensor> g;
    if (c10::GradMode::is_enabled() || dy.scalar_type() != at::kFloat || !dy.device().is_cpu()) {
      g = groupNormDifferentiableBackward(dy, x, gamma, groups, ctx->saved_data["eps"].toDouble());
    } else {
      const bool affine = ctx->needs_input_grad(1) || ctx->needs_input_grad(2);
      g = backwardKernel(dy.contiguous(at::MemoryFormat::ChannelsLast), x, mean, rstd, gamma, affine);
    }
    return {g[0], g[1], g[2], at::Tensor(), at::Tensor()};
  }
};

}  // namespace

GroupNormArgs groupNormArgs(const Napi::CallbackInfo& info) {
  GroupNormArgs a{tensorArg(info, 0), info[1].IsNull() ? at::Tensor() : tensorArg(info, 1),
                  info[2].IsNull() ? at::Tensor() : tensorArg(info, 2), info[3].As<Napi::Number>().Int64Value(),
                  info[4].As<Napi::Number>().DoubleValue()};
  const int64_t channels = a.x.dim() >= 2 ? a.x.size(1) : 0;
  if (a.groups <= 0 || channels % a.groups != 0) {
    throw std::invalid_argument("groups must divide the " + std::to_string(channels) + " channels, got " +
                                std::to_string(a.groups));
  }
  for (at::Tensor* t : {&a.gamma, &a.beta}) {
    if (t->defined() && !(t->device().is_cpu() && t->scalar_type() == at::kFloat && t->dim() == 1 &&
                          t->size(0) == channels && t->is_contiguous())) {
      throw std::invalid_argument("weight and bias must be float32 CPU vectors of " + std::to_string(channels) +
                                  " values, got " + describeTensor(*t));
    }
  }
  const auto vector = a.x.options().memory_format(at::MemoryFormat::Contiguous);
  if (!a.gamma.defined()) a.gamma = at::ones({channels}, vector);
  if (!a.beta.defined()) a.beta = at::zeros({channels}, vector);
  return a;
}

void registerNormFunctions(Napi::Env env, Napi::Object exports) {
  // groupNormChannelsLast(x, weight|null, bias|null, groups, eps): see the head of this file.
  exportFn(env, exports, "groupNormChannelsLast", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& x = tensorArg(info, 0);
    if (!isChannelsLastFloat(x) || x.size(0) == 0) {
      throw std::invalid_argument("x must be a channels-last float32 CPU tensor [N, C, H, W] with N > 0, got " +
                                  describeTensor(x));
    }
    const GroupNormArgs a = groupNormArgs(info);
    return newHandle(info.Env(), GroupNormChannelsLast::apply(a.x, a.gamma, a.beta, a.groups, a.eps));
  });
}

}  // namespace genlab
