// GroupNorm followed by SiLU, as one autograd node, for float32 CPU tensors [N, C, H, W], row-major or
// channels-last.
//
// Why: the pair normalises the blocks of conv nets (the engine bench's, the classifier's feature
// networks; nn.Sequential runs it for the pair) and of the channels-last U-Nets (row-major U-Nets
// call the two ops apart, as CONTRIBUTING.md says). As two ATen ops the forward writes GroupNorm's
// output and reads it back for SiLU, and the backward writes SiLU's gradient and reads it back
// twice in GroupNorm's backward, each a full pass over an activation that, at the conv net's
// [64, 32, 28, 28], does not fit the cache. Here the forward takes each group's sums, then makes
// one pass that writes SiLU's output; the backward makes one pass that forms SiLU's gradient
// (recomputing GroupNorm's output from x) with its sums per channel, and one that turns it into dx
// in place. A row-major tensor is worked one (example, group) at a time along its rows of pixels;
// a channels-last one an example at a time, its vectors along the channels, with the statistics of
// channels-last GroupNorm (norm_kernels.cc).
//
// Same numbers to float32 rounding, not bit for bit: the sums are taken about a pivot (the first
// value forward, the group's mean backward) in float lanes flushed to double, so a large mean does
// not swamp them, and exp is this file's own polynomial. Under create_graph the backward is
// differentiable ATen ops (ATen's GroupNorm, then the backwards of SiLU and GroupNorm as
// elementary ops), so second derivatives exist.
#include "common.h"
#include "norm_kernels.h"
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace genlab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kFlush = 256;  // values summed in float lanes before they are added into double

// ---- scalar paths, over a run of n values of one channel ----
inline float sigmoidScalar(float u) { return 1.0f / (1.0f + std::exp(-u)); }

// Sums of (x − pivot) and (x − pivot)², added into s and q.
void pivotedSumsScalar(const float* x, int64_t n, float pivot, double* s, double* q) {
  for (int64_t i = 0; i < n; i++) {
    const double d = static_cast<double>(x[i]) - pivot;
    *s += d;
    *q += d * d;
  }
}

void forwardScalar(const float* x, float* y, int64_t n, float scale, float shift) {
  for (int64_t i = 0; i < n; i++) {
    const float u = x[i] * scale + shift;
    y[i] = u * sigmoidScalar(u);
  }
}

// SiLU's gradient du = dy·σ(u)·(1 + u·(1 − σ(u))) into du; its sum, and its sum against x − pivot
// (the group's mean, so that a large mean does not swamp the sum), added into sdu and sdux.
void gradScalar(const float* dy, const float* x, float* du, int64_t n, float scale, float shift, float pivot,
                double* sdu, double* sdux) {
  for (int64_t i = 0; i < n; i++) {
    const float u = x[i] * scale + shift;
    const float s = sigmoidScalar(u);
    const float g = dy[i] * s * (1.0f + u * (1.0f - s));
    du[i] = g;
    *sdu += g;
    *sdux += static_cast<double>(g) * (x[i] - pivot);
  }
}

// io ← io·a + x·b + c: GroupNorm's input gradient from SiLU's.
void finishScalar(float* io, const float* x, int64_t n, float a, float b, float c) {
  for (int64_t i = 0; i < n; i++) io[i] = io[i] * a + x[i] * b + c;
}

#if defined(__x86_64__)
// e^v: v = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor polynomial to r⁶ (relative error about
// 1e-7), times 2^k built in the exponent bits. v is clamped to where e^v is a normal float.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 v) {
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693145751953125f), v);  // ln 2 in two parts, so k·ln 2 stays exact
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(1.4286068203094173e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma"))) inline __m256 sigmoid8(__m256 u) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), u))));
}

__attribute__((target("avx2,fma"))) inline double lanesSum(__m256 v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  double s = 0;
  for (float x : f) s += x;
  return s;
}

__attribute__((target("avx2,fma"))) void pivotedSumsAvx2(const float* x, int64_t n, float pivot, double* s,
                                                         double* q) {
  const __m256 pv = _mm256_set1_ps(pivot);
  int64_t i = 0;
  while (i + 8 <= n) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (const int64_t end = std::min(n, i + kFlush); i + 8 <= end; i += 8) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), pv);
      a = _mm256_add_ps(a, d);
      b = _mm256_fmadd_ps(d, d, b);
    }
    *s += lanesSum(a);
    *q += lanesSum(b);
  }
  pivotedSumsScalar(x + i, n - i, pivot, s, q);
}

__attribute__((target("avx2,fma"))) void forwardAvx2(const float* x, float* y, int64_t n, float scale, float shift) {
  const __m256 sc = _mm256_set1_ps(scale), sh = _mm256_set1_ps(shift);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 u = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), sc, sh);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(u, sigmoid8(u)));
  }
  forwardScalar(x + i, y + i, n - i, scale, shift);
}

__attribute__((target("avx2,fma"))) void gradAvx2(const float* dy, const float* x, float* du, int64_t n, float scale,
                                                  float shift, float pivot, double* sdu, double* sdux) {
  const __m256 sc = _mm256_set1_ps(scale), sh = _mm256_set1_ps(shift), one = _mm256_set1_ps(1.0f);
  const __m256 pv = _mm256_set1_ps(pivot);
  int64_t i = 0;
  while (i + 8 <= n) {
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
    for (const int64_t end = std::min(n, i + kFlush); i + 8 <= end; i += 8) {
      const __m256 xv = _mm256_loadu_ps(x + i);
      const __m256 u = _mm256_fmadd_ps(xv, sc, sh);
      const __m256 s = sigmoid8(u);
      const __m256 g = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i), s),
                                     _mm256_fmadd_ps(u, _mm256_sub_ps(one, s), one));
      _mm256_storeu_ps(du + i, g);
      a = _mm256_add_ps(a, g);
      b = _mm256_fmadd_ps(g, _mm256_sub_ps(xv, pv), b);
    }
    *sdu += lanesSum(a);
    *sdux += lanesSum(b);
  }
  gradScalar(dy + i, x + i, du + i, n - i, scale, shift, pivot, sdu, sdux);
}

__attribute__((target("avx2,fma"))) void finishAvx2(float* io, const float* x, int64_t n, float a, float b, float c) {
  const __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b), cv = _mm256_set1_ps(c);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(io + i, _mm256_fmadd_ps(_mm256_loadu_ps(io + i), av,
                                             _mm256_fmadd_ps(_mm256_loadu_ps(x + i), bv, cv)));
  }
  finishScalar(io + i, x + i, n - i, a, b, c);
}
#endif

void pivotedSums(const float* x, int64_t n, float pivot, double* s, double* q) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return pivotedSumsAvx2(x, n, pivot, s, q);
#endif
  pivotedSumsScalar(x, n, pivot, s, q);
}

void forwardRun(const float* x, float* y, int64_t n, float scale, float shift) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return forwardAvx2(x, y, n, scale, shift);
#endif
  forwardScalar(x, y, n, scale, shift);
}

void gradRun(const float* dy, const float* x, float* du, int64_t n, float scale, float shift, float pivot,
             double* sdu, double* sdux) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return gradAvx2(dy, x, du, n, scale, shift, pivot, sdu, sdux);
#endif
  gradScalar(dy, x, du, n, scale, shift, pivot, sdu, sdux);
}

void finishRun(float* io, const float* x, int64_t n, float a, float b, float c) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return finishAvx2(io, x, n, a, b, c);
#endif
  finishScalar(io, x, n, a, b, c);
}

// ---- channels-last row kernels, over one example's [pixels, channels] block ----

// y[p, c] = silu(x[p, c]·scale[c] + shift[c]), for the channels from firstChannel on.
void forwardRowsScalar(const float* x, float* y, int64_t pixels, int64_t channels, int64_t firstChannel,
                       const float* scale, const float* shift) {
  for (int64_t p = 0; p < pixels; p++) {
    for (int64_t c = firstChannel; c < channels; c++) {
      forwardScalar(x + p * channels + c, y + p * channels + c, 1, scale[c], shift[c]);
    }
  }
}

// SiLU's gradient du (as gradScalar) for the channels from firstChannel on; per channel, its sum into
// sdu[c] and its sum against x − pivot[c] into sdux[c].
void gradRowsScalar(const float* dy, const float* x, float* du, int64_t pixels, int64_t channels, int64_t firstChannel,
                    const float* scale, const float* shift, const float* pivot, double* sdu, double* sdux) {
  for (int64_t c = firstChannel; c < channels; c++) {
    sdu[c] = sdux[c] = 0;
    for (int64_t p = 0; p < pixels; p++) {
      const int64_t i = p * channels + c;
      gradScalar(dy + i, x + i, du + i, 1, scale[c], shift[c], pivot[c], sdu + c, sdux + c);
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void forwardRowsAvx2(const float* x, float* y, int64_t pixels, int64_t channels,
                                                         const float* scale, const float* shift) {
  const int64_t vecChannels = channels / 8 * 8;
  for (int64_t p = 0; p < pixels; p++) {
    const int64_t row = p * channels;
    for (int64_t c = 0; c < vecChannels; c += 8) {
      const __m256 u =
          _mm256_fmadd_ps(_mm256_loadu_ps(x + row + c), _mm256_loadu_ps(scale + c), _mm256_loadu_ps(shift + c));
      _mm256_storeu_ps(y + row + c, _mm256_mul_ps(u, sigmoid8(u)));
    }
  }
  if (vecChannels < channels) forwardRowsScalar(x, y, pixels, channels, vecChannels, scale, shift);
}

// V·8 channels from c, their sums in registers over runs of kFlush pixels.
template <int V>
__attribute__((target("avx2,fma"))) void gradRowsAvx2(const float* dy, const float* x, float* du, int64_t pixels,
                                                      int64_t channels, int64_t c, const float* scale,
                                                      const float* shift, const float* pivot, double* sdu,
                                                      double* sdux) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 sc[V], sh[V], pv[V];
  for (int j = 0; j < V; j++) {
    sc[j] = _mm256_loadu_ps(scale + c + 8 * j);
    sh[j] = _mm256_loadu_ps(shift + c + 8 * j);
    pv[j] = _mm256_loadu_ps(pivot + c + 8 * j);
  }
  std::fill(sdu + c, sdu + c + 8 * V, 0.0);
  std::fill(sdux + c, sdux + c + 8 * V, 0.0);
  for (int64_t p0 = 0; p0 < pixels; p0 += kFlush) {
    __m256 a[V], b[V];
    for (int j = 0; j < V; j++) a[j] = b[j] = _mm256_setzero_ps();
    const int64_t p1 = std::min(pixels, p0 + kFlush);
    for (int64_t p = p0; p < p1; p++) {
      const int64_t i = p * channels + c;
      for (int j = 0; j < V; j++) {
        const __m256 xv = _mm256_loadu_ps(x + i + 8 * j);
        const __m256 u = _mm256_fmadd_ps(xv, sc[j], sh[j]);
        const __m256 s = sigmoid8(u);
        const __m256 g = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i + 8 * j), s),
                                       _mm256_fmadd_ps(u, _mm256_sub_ps(one, s), one));
        _mm256_storeu_ps(du + i + 8 * j, g);
        a[j] = _mm256_add_ps(a[j], g);
        b[j] = _mm256_fmadd_ps(g, _mm256_sub_ps(xv, pv[j]), b[j]);
      }
    }
    for (int j = 0; j < V; j++) {
      addLanes(a[j], sdu + c + 8 * j);
      addLanes(b[j], sdux + c + 8 * j);
    }
  }
}
#endif

void forwardRows(const float* x, float* y, int64_t pixels, int64_t channels, const float* scale, const float* shift) {
#if defined(__x86_64__)
  if (kCpuAvx2Fma) return forwardRowsAvx2(x, y, pixels, channels, scale, shift);
#endif
  forwardRowsScalar(x, y, pixels, channels, 0, scale, shift);
}

void gradRows(const float* dy, const float* x, float* du, int64_t pixels, int64_t channels, const float* scale,
              const float* shift, const float* pivot, double* sdu, double* sdux) {
  int64_t c = 0;
#if defined(__x86_64__)
  if (kCpuAvx2Fma) {
    // As many channels a pass as the registers hold: each pass reads the example's rows once more.
    for (; c + 32 <= channels; c += 32) gradRowsAvx2<4>(dy, x, du, pixels, channels, c, scale, shift, pivot, sdu, sdux);
    for (; c + 16 <= channels; c += 16) gradRowsAvx2<2>(dy, x, du, pixels, channels, c, scale, shift, pivot, sdu, sdux);
    for (; c + 8 <= channels; c += 8) gradRowsAvx2<1>(dy, x, du, pixels, channels, c, scale, shift, pivot, sdu, sdux);
  }
#endif
  gradRowsScalar(dy, x, du, pixels, channels, c, scale, shift, pivot, sdu, sdux);
}

// ---- row-major kernels, each (example, group) a task ----
struct Dims {
  int64_t n, c, pixels, groups, perGroup;
  Dims(const at::Tensor& x, int64_t g)
      : n(x.size(0)), c(x.size(1)), pixels(x.size(2) * x.size(3)), groups(g), perGroup(x.size(1) / g) {}
  double count() const { return static_cast<double>(perGroup * pixels); }
};

// GroupNorm's affine map of channel c of a group with mean m and 1/std r: u = x·scale + shift.
inline void affine(double m, double r, float gamma, float beta, float* scale, float* shift) {
  *scale = static_cast<float>(r * gamma);
  *shift = static_cast<float>(beta - m * r * gamma);
}

// y, and the mean and 1/std of each (example, group) [N, G] in double.
std::vector<at::Tensor> forwardKernel(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta,
                                      int64_t groups, double eps) {
  const Dims d(x, groups);
  at::Tensor y = at::empty_like(x);
  at::Tensor mean = at::empty({d.n, d.groups}, x.options().dtype(at::kDouble));
  at::Tensor rstd = at::empty({d.n, d.groups}, x.options().dtype(at::kDouble));
  const float *px = x.data_ptr<float>(), *pg = gamma.data_ptr<float>(), *pb = beta.data_ptr<float>();
  float* py = y.data_ptr<float>();
  double *pm = mean.data_ptr<double>(), *pr = rstd.data_ptr<double>();
  const int64_t rowLen = d.perGroup * d.pixels;
  at::parallel_for(0, d.n * d.groups, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      const float* row = px + i * rowLen;
      double s = 0, q = 0;
      pivotedSums(row, rowLen, row[0], &s, &q);
      const double shiftMean = s / d.count();
      const double m = row[0] + shiftMean;
      const double r = 1.0 / std::sqrt(std::max(q / d.count() - shiftMean * shiftMean, 0.0) + eps);
      pm[i] = m;
      pr[i] = r;
      const int64_t g = i % d.groups;
      for (int64_t k = 0; k < d.perGroup; k++) {
        const int64_t c = g * d.perGroup + k;
        float scale, shift;
        affine(m, r, pg[c], pb[c], &scale, &shift);
        forwardRun(row + k * d.pixels, py + i * rowLen + k * d.pixels, d.pixels, scale, shift);
      }
    }
  });
  return {y, mean, rstd};
}

// One backward call: its inputs, the dx it writes, and each (example, channel)'s Σ du and
// Σ du·(x − m), which the row-major and channels-last passes fill in.
struct Backward {
  Dims d;
  at::Tensor dx;
  std::vector<double> sdu, sdux;
  const float *x, *dy, *gamma, *beta;
  const double *mean, *rstd;
  float* pdx;

  Backward(const at::Tensor& dyT, const at::Tensor& xT, const at::Tensor& meanT, const at::Tensor& rstdT,
           const at::Tensor& gammaT, const at::Tensor& betaT)
      : d(xT, meanT.size(1)), dx(at::empty_like(xT)), sdu(d.n * d.c), sdux(d.n * d.c), x(xT.data_ptr<float>()),
        dy(dyT.data_ptr<float>()), gamma(gammaT.data_ptr<float>()), beta(betaT.data_ptr<float>()),
        mean(meanT.data_ptr<double>()), rstd(rstdT.data_ptr<double>()), pdx(dx.data_ptr<float>()) {}

  // {dx, dweight, dbias}, the sums added over the examples in a fixed order (so one thread and two
  // give the same bits).
  std::vector<at::Tensor> result(const at::TensorOptions& vectors) const {
    std::vector<double> dgamma(d.c, 0.0), dbeta(d.c, 0.0);
    for (int64_t n = 0; n < d.n; n++) {
      for (int64_t c = 0; c < d.c; c++) {
        const int64_t i = n * d.groups + c / d.perGroup, j = n * d.c + c;
        dgamma[c] += sdux[j] * rstd[i];
        dbeta[c] += sdu[j];
      }
    }
    const auto vec = [&](const std::vector<double>& v) {
      return at::tensor(std::vector<float>(v.begin(), v.end()), vectors);
    };
    return {dx, vec(dgamma), vec(dbeta)};
  }
};

// The backward of row-major x and dy.
void backwardRowMajor(Backward& io) {
  const Dims& d = io.d;
  const int64_t rowLen = d.perGroup * d.pixels;
  at::parallel_for(0, d.n * d.groups, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      const double m = io.mean[i], r = io.rstd[i];
      const float pivot = static_cast<float>(m);
      const int64_t g = i % d.groups, base = (i / d.groups) * d.c + g * d.perGroup;  // index of (example, first channel)
      double a = 0, b = 0;  // over the group: Σ γ·du and Σ γ·du·(x − pivot)
      for (int64_t k = 0; k < d.perGroup; k++) {
        const int64_t c = g * d.perGroup + k, o = i * rowLen + k * d.pixels;
        float scale, shift;
        affine(m, r, io.gamma[c], io.beta[c], &scale, &shift);
        double s1 = 0, s2 = 0;
        gradRun(io.dy + o, io.x + o, io.pdx + o, d.pixels, scale, shift, pivot, &s1, &s2);
        io.sdu[base + k] = s1;
        io.sdux[base + k] = s2 - (m - pivot) * s1;  // Σ du·(x − m)
        a += io.gamma[c] * s1;
        b += io.gamma[c] * io.sdux[base + k];
      }
      // dx = r·γ·du + x·c2 + c3, GroupNorm's input gradient, with b = Σ γ·du·(x − m).
      const double c2 = -b * r * r * r / d.count();
      const double c3 = -c2 * m - a * r / d.count();
      for (int64_t k = 0; k < d.perGroup; k++) {
        const int64_t c = g * d.perGroup + k, o = i * rowLen + k * d.pixels;
        finishRun(io.pdx + o, io.x + o, d.pixels, static_cast<float>(r * io.gamma[c]), static_cast<float>(c2),
                  static_cast<float>(c3));
      }
    }
  });
}

// ---- channels-last kernels, each example a task ----

// As forwardKernel, for channels-last x: the group statistics are channelsLastGroupStats's (the
// same as torch.groupNorm's for this layout), then one pass writes SiLU's output.
std::vector<at::Tensor> forwardKernelChannelsLast(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta,
                                                  int64_t groups, double eps) {
  const Dims d(x, groups);
  at::Tensor y = at::empty_like(x);
  const auto stats = x.options().dtype(at::kDouble).memory_format(at::MemoryFormat::Contiguous);
  at::Tensor mean = at::empty({d.n, d.groups}, stats);
  at::Tensor rstd = at::empty_like(mean);
  const float *px = x.data_ptr<float>(), *pg = gamma.data_ptr<float>(), *pb = beta.data_ptr<float>();
  float* py = y.data_ptr<float>();
  double *pm = mean.data_ptr<double>(), *pr = rstd.data_ptr<double>();
  const int64_t block = d.pixels * d.c;
  at::parallel_for(0, d.n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> sum(d.c), sq(d.c);
    std::vector<float> scale(d.c), shift(d.c);
    for (int64_t e = lo; e < hi; e++) {
      double* m = pm + e * d.groups;
      double* r = pr + e * d.groups;
      channelsLastGroupStats(px + e * block, d.pixels, d.c, d.groups, eps, sum.data(), sq.data(), m, r);
      for (int64_t c = 0; c < d.c; c++) {
        affine(m[c / d.perGroup], r[c / d.perGroup], pg[c], pb[c], &scale[c], &shift[c]);
      }
      forwardRows(px + e * block, py + e * block, d.pixels, d.c, scale.data(), shift.data());
    }
  });
  return {y, mean, rstd};
}

// The backward of channels-last x and dy: one pass forms SiLU's gradient in dx with its sums per
// channel, then channelAffine turns it into GroupNorm's input gradient in place.
void backwardChannelsLast(Backward& io) {
  const Dims& d = io.d;
  const int64_t block = d.pixels * d.c;
  at::parallel_for(0, d.n, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> scale(d.c), shift(d.c), pivot(d.c), u(d.c), v(d.c), w(d.c);
    for (int64_t e = lo; e < hi; e++) {
      const double* m = io.mean + e * d.groups;
      const double* r = io.rstd + e * d.groups;
      for (int64_t c = 0; c < d.c; c++) {
        affine(m[c / d.perGroup], r[c / d.perGroup], io.gamma[c], io.beta[c], &scale[c], &shift[c]);
        pivot[c] = static_cast<float>(m[c / d.perGroup]);
      }
      double* s1 = io.sdu.data() + e * d.c;
      double* s2 = io.sdux.data() + e * d.c;
      gradRows(io.dy + e * block, io.x + e * block, io.pdx + e * block, d.pixels, d.c, scale.data(), shift.data(),
               pivot.data(), s1, s2);
      for (int64_t g = 0; g < d.groups; g++) {
        double a = 0, b = 0;  // over the group: Σ γ·du and Σ γ·du·(x − m)
        for (int64_t c = g * d.perGroup; c < (g + 1) * d.perGroup; c++) {
          s2[c] -= (m[g] - pivot[c]) * s1[c];  // Σ du·(x − m)
          a += io.gamma[c] * s1[c];
          b += io.gamma[c] * s2[c];
        }
        // dx = r·γ·du + v·(x − m) − r·a/M with v = −r³·b/M, GroupNorm's input gradient; channelAffine
        // takes x − pivot, so w carries v·(pivot − m).
        const double vg = -b * r[g] * r[g] * r[g] / d.count();
        for (int64_t c = g * d.perGroup; c < (g + 1) * d.perGroup; c++) {
          u[c] = static_cast<float>(r[g] * io.gamma[c]);
          v[c] = static_cast<float>(vg);
          w[c] = static_cast<float>(-a * r[g] / d.count() + vg * (pivot[c] - m[g]));
        }
      }
      float* dxe = io.pdx + e * block;  // SiLU's gradient, turned into dx in place
      channelAffine(dxe, io.x + e * block, pivot.data(), dxe, d.pixels, d.c, u.data(), v.data(), w.data());
    }
  });
}

// Weight and bias are always tensors here (see GroupNormArgs).
struct GroupNormSilu : public torch::autograd::Function<GroupNormSilu> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                            const at::Tensor& beta, int64_t groups, double eps) {
    auto out = x.is_contiguous() ? forwardKernel(x, gamma, beta, groups, eps)
                                 : forwardKernelChannelsLast(x, gamma, beta, groups, eps);
    ctx->save_for_backward({x, gamma, beta, out[1], out[2]});
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["eps"] = eps;
    return out[0];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gamma = saved[1], &beta = saved[2], &mean = saved[3], &rstd = saved[4];
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const double eps = ctx->saved_data["eps"].toDouble();
    const at::Tensor& dy = grads[0];
    std::vector<at::Tensor> g;
    if (c10::GradMode::is_enabled() || dy.scalar_type() != at::kFloat || !dy.device().is_cpu()) {
      // SiLU's backward as elementary ops: libtorch 1.13's silu_backward has no derivative of its own.
      const at::Tensor u = at::group_norm(x, groups, gamma, beta, eps);
      const at::Tensor s = at::sigmoid(u);
      g = groupNormDifferentiableBackward(dy * s * (1 + u * (1 - s)), x, gamma, groups, eps);
    } else {
      const bool rowMajor = x.is_contiguous();
      const at::Tensor dyInLayout =
          dy.contiguous(rowMajor ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast);
      Backward k(dyInLayout, x, mean, rstd, gamma, beta);
      rowMajor ? backwardRowMajor(k) : backwardChannelsLast(k);
      g = k.result(gamma.options());
    }
    return {g[0], g[1], g[2], at::Tensor(), at::Tensor()};
  }
};

}  // namespace

void registerNormSiluFunctions(Napi::Env env, Napi::Object exports) {
  // groupNormSilu(x, weight|null, bias|null, groups, eps): silu(group_norm(x)); see the head of this file.
  exportFn(env, exports, "groupNormSilu", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& x = tensorArg(info, 0);
    if (!(x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 4 &&
          (x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast))) ||
        x.numel() == 0) {
      throw std::invalid_argument(
          "x must be a non-empty float32 CPU tensor [N, C, H, W], row-major or channels-last, got " +
          describeTensor(x));
    }
    const GroupNormArgs a = groupNormArgs(info);
    return newHandle(info.Env(), GroupNormSilu::apply(a.x, a.gamma, a.beta, a.groups, a.eps));
  });
}

}  // namespace genlab
