// Fused elementwise layers: relu((x + shift) · scale) per channel, the ActNorm + ReLU pair of Glow's
// coupling networks, as one autograd node.
//
// Why: as three ATen ops (add, mul, relu) the pair makes three passes over the activation forward and
// about six backward (threshold, two products, the two sums), each a full read or write of a tensor
// that, in the Fashion-MNIST Glow, no longer fits the cache. Here the forward is one pass, and the
// backward one pass that writes both products, then ATen's own sums.
//
// Same numbers: every value is the same float32 operation in the same order as the ATen ops make it
// (the add, then the product, each rounded once; ATen's max for the ReLU and its threshold test for
// the ReLU's gradient), and the two per-channel gradients are reduced by at::sum_to, the call
// autograd itself reduces a broadcast operand's gradient with. So losses and gradients are bit for
// bit what the three ops give. Under create_graph (double backward) the backward is the same
// formulas as differentiable ATen ops.
#include "common.h"
#include <ATen/ExpandUtils.h>  // at::sum_to
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <algorithm>
#include <cmath>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdexcept>
#include <vector>

namespace genlab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- the kernels, over a run of n values ----
// Per value, shift and scale come either from one channel's pair (a plane of one example and one
// channel: Coeffs::stride 0) or from rows laid out like one example ([C, plane] expanded, stride 1),
// which keeps the loop 8 wide when planes are too small for it (Glow's 2×2 and 4×4 levels), or
// when the channels lie innermost (channels last).
struct Coeffs {
  const float* shift;
  const float* scale;
  int64_t stride;  // 0: one pair for the whole run; 1: a pair per value
};

inline float reluScalar(float v) { return std::max(v, 0.0f); }  // as ATen's clamp_min: NaN stays NaN

void forwardScalar(const float* x, float* y, int64_t n, Coeffs k) {
  for (int64_t i = 0; i < n; i++) y[i] = reluScalar((x[i] + k.shift[i * k.stride]) * k.scale[i * k.stride]);
}

void backwardScalar(const float* g, const float* x, const float* y, float* gx, float* gxs, int64_t n, Coeffs k) {
  for (int64_t i = 0; i < n; i++) {
    const float gp = y[i] <= 0.0f ? 0.0f : g[i];  // ATen's threshold_backward(g, y, 0)
    gx[i] = gp * k.scale[i * k.stride];
    gxs[i] = gp * (x[i] + k.shift[i * k.stride]);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) inline __m256 coeff(const float* p, int64_t i, int64_t stride) {
  return stride == 0 ? _mm256_set1_ps(*p) : _mm256_loadu_ps(p + i);
}

// _mm256_max_ps(0, v) returns v when v is NaN or a zero of either sign, as ATen's vectorised clamp_min.
__attribute__((target("avx2"))) void forwardAvx2(const float* x, float* y, int64_t n, Coeffs k) {
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(x + i), coeff(k.shift, i, k.stride)),
                                   coeff(k.scale, i, k.stride));
    _mm256_storeu_ps(y + i, _mm256_max_ps(zero, v));
  }
  forwardScalar(x + i, y + i, n - i, {k.shift + i * k.stride, k.scale + i * k.stride, k.stride});
}

__attribute__((target("avx2"))) void backwardAvx2(const float* g, const float* x, const float* y, float* gx, float* gxs,
                                                  int64_t n, Coeffs k) {
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 keep = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_NLE_UQ);  // not (y <= 0): NaN passes, as ATen
    const __m256 gp = _mm256_and_ps(_mm256_loadu_ps(g + i), keep);
    _mm256_storeu_ps(gx + i, _mm256_mul_ps(gp, coeff(k.scale, i, k.stride)));
    _mm256_storeu_ps(gxs + i, _mm256_mul_ps(gp, _mm256_add_ps(_mm256_loadu_ps(x + i), coeff(k.shift, i, k.stride))));
  }
  backwardScalar(g + i, x + i, y + i, gx + i, gxs + i, n - i, {k.shift + i * k.stride, k.scale + i * k.stride, k.stride});
}
#endif

void forwardRun(const float* x, float* y, int64_t n, Coeffs k) {
#if defined(__x86_64__)
  if (kCpuAvx2) return forwardAvx2(x, y, n, k);
#endif
  forwardScalar(x, y, n, k);
}

void backwardRun(const float* g, const float* x, const float* y, float* gx, float* gxs, int64_t n, Coeffs k) {
#if defined(__x86_64__)
  if (kCpuAvx2) return backwardAvx2(g, x, y, gx, gxs, n, k);
#endif
  backwardScalar(g, x, y, gx, gxs, n, k);
}

// The two layouts the kernels read: [N, C, plane…] in row-major order, or a 4-d [N, C, H, W] in
// channels-last order (memory [N, H, W, C]: each pixel's channels side by side), which oneDNN's
// convolutions read and write without reordering.
enum class Layout { ChannelsFirst, ChannelsLast };

Layout layoutOf(const at::Tensor& x) { return x.is_contiguous() ? Layout::ChannelsFirst : Layout::ChannelsLast; }

bool hasLayout(const at::Tensor& t, Layout layout) {
  return layout == Layout::ChannelsFirst ? t.is_contiguous() : t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast);
}

// Runs hold at least this many values, so that the 8-wide loops do most of the work.
constexpr int64_t kMinRun = 64;

// Coefficient rows laid out like `copies` consecutive runs of `inner` values per channel (channels
// first: a plane) or like `copies` pixels of all channels (channels last).
struct CoeffRows {
  std::vector<float> shift, scale;
  CoeffRows(const float* shift0, const float* scale0, int64_t channels, int64_t inner, Layout layout) {
    const int64_t row = channels * inner;
    shift.resize(row);
    scale.resize(row);
    for (int64_t i = 0; i < row; i++) {
      const int64_t c = layout == Layout::ChannelsFirst ? i / inner : i % channels;
      shift[i] = shift0[c];
      scale[i] = scale0[c];
    }
  }
};

// Calls f(offset, length, coeffs) over runs that cover x in memory order, in parallel. Channels
// first: a run per plane when planes hold at least kMinRun values, else a run per example with the
// coefficients expanded to the example's layout. Channels last: runs of whole pixels, with the
// channels' coefficients repeated once per pixel of the run.
template <typename F>
void forEachRun(const at::Tensor& x, const float* shift, const float* scale, F f) {
  if (x.numel() == 0) return;
  const int64_t examples = x.size(0), channels = x.size(1);
  const int64_t plane = x.numel() / (examples * channels);
  if (layoutOf(x) == Layout::ChannelsLast) {
    const int64_t pixels = examples * plane;
    const int64_t perRun = std::max<int64_t>(1, (4 * kMinRun + channels - 1) / channels);
    const CoeffRows rows(shift, scale, channels, perRun, Layout::ChannelsLast);
    const int64_t runs = (pixels + perRun - 1) / perRun;
    const int64_t grain = std::max<int64_t>(1, 32768 / (perRun * channels));
    at::parallel_for(0, runs, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const int64_t first = r * perRun, n = std::min(perRun, pixels - first);
        f(first * channels, n * channels, Coeffs{rows.shift.data(), rows.scale.data(), 1});
      }
    });
    return;
  }
  if (plane >= kMinRun) {
    const int64_t grain = std::max<int64_t>(1, 32768 / plane);
    at::parallel_for(0, examples * channels, grain, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; p++) f(p * plane, plane, Coeffs{shift + p % channels, scale + p % channels, 0});
    });
    return;
  }
  const CoeffRows rows(shift, scale, channels, plane, Layout::ChannelsFirst);
  const int64_t row = channels * plane;
  const int64_t grain = std::max<int64_t>(1, 32768 / row);
  at::parallel_for(0, examples, grain, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; e++) f(e * row, row, Coeffs{rows.shift.data(), rows.scale.data(), 1});
  });
}

// The inputs this kernel takes; anything else is the caller's to compose from ATen ops.
void checkInputs(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
  auto onCpu = [](const at::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; };
  if (!onCpu(x) || x.dim() < 2 || x.size(0) == 0 || !(hasLayout(x, Layout::ChannelsFirst) || hasLayout(x, Layout::ChannelsLast))) {
    throw std::invalid_argument("x must be a float32 CPU tensor [N, C, ...] with N > 0, contiguous or (4-d) channels-last, got " +
                                describeTensor(x));
  }
  // [1, C, 1, …] of x's rank: a shape like [1, 1, 1, C] has C values too, but along another dimension.
  auto perChannel = [&x](const at::Tensor& t) {
    if (t.dim() != x.dim()) return false;
    for (int64_t d = 0; d < t.dim(); d++) {
      if (t.size(d) != (d == 1 ? x.size(1) : 1)) return false;
    }
    return true;
  };
  for (const at::Tensor* t : {&shift, &scale}) {
    if (!onCpu(*t) || !t->is_contiguous() || !perChannel(*t)) {
      throw std::invalid_argument("shift and scale must be contiguous float32 CPU tensors of shape [1, " +
                                  std::to_string(x.size(1)) + ", 1, ...] (one value per channel), got " +
                                  describeTensor(*t));
    }
  }
}

struct ShiftScaleRelu : public torch::autograd::Function<ShiftScaleRelu> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
    at::Tensor y = at::empty_like(x);
    const float* px = x.data_ptr<float>();
    float* py = y.data_ptr<float>();
    forEachRun(x, shift.data_ptr<float>(), scale.data_ptr<float>(),
               [&](int64_t o, int64_t n, Coeffs k) { forwardRun(px + o, py + o, n, k); });
    ctx->save_for_backward({x, shift, scale, y});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &shift = saved[1], &scale = saved[2], &y = saved[3];
    const at::Tensor& g = grads[0];
    at::Tensor gx, gxs;  // the gradient of x (and of the shift, before its sum), and of the scale before its sum
    if (c10::GradMode::is_enabled() || !hasLayout(g, layoutOf(x)) || g.scalar_type() != at::kFloat || !g.device().is_cpu()) {
      const at::Tensor gp = at::threshold_backward(g, y, 0);
      gx = gp * scale;
      gxs = gp * (x + shift);
    } else {
      gx = at::empty_like(x);
      gxs = at::empty_like(x);
      const float *pg = g.data_ptr<float>(), *px = x.data_ptr<float>(), *py = y.data_ptr<float>();
      float *pgx = gx.data_ptr<float>(), *pgxs = gxs.data_ptr<float>();
      forEachRun(x, shift.data_ptr<float>(), scale.data_ptr<float>(), [&](int64_t o, int64_t n, Coeffs k) {
        backwardRun(pg + o, px + o, py + o, pgx + o, pgxs + o, n, k);
      });
    }
    at::Tensor gShift = at::sum_to(gx, shift.sizes());
    at::Tensor gScale = at::sum_to(gxs, scale.sizes());
    return {gx, gShift, gScale};
  }
};

}  // namespace

void registerFusedFunctions(Napi::Env env, Napi::Object exports) {
  // shiftScaleRelu(x, shift, scale): relu((x + shift) · scale), shift and scale one value per channel
  // (dimension 1 of x), as one autograd node; see the head of this file.
  exportFn(env, exports, "shiftScaleRelu", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& x = tensorArg(info, 0);
    const at::Tensor& shift = tensorArg(info, 1);
    const at::Tensor& scale = tensorArg(info, 2);
    checkInputs(x, shift, scale);
    return newHandle(info.Env(), ShiftScaleRelu::apply(x, shift, scale));
  });
}

}  // namespace genlab
