// Data-loading kernels: the loader's batch gather fused with its integer-to-float conversion.
#include "common.h"
#include <ATen/Parallel.h>
#include <algorithm>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdexcept>
#include <string>
#include <vector>

namespace genlab {
namespace {

void divideRowScalar(const uint8_t* src, float* dst, int64_t n, float divisor) {
  for (int64_t j = 0; j < n; j++) dst[j] = static_cast<float>(src[j]) / divisor;
}

#if defined(__x86_64__)
// Eight values at a time: widen uint8 to int32, convert to float32, divide (IEEE, so exact as above).
__attribute__((target("avx2"))) void divideRowAvx2(const uint8_t* src, float* dst, int64_t n, float divisor) {
  const __m256 d = _mm256_set1_ps(divisor);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + j));
    _mm256_storeu_ps(dst + j, _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), d));
  }
  divideRowScalar(src + j, dst + j, n - j, divisor);
}
#endif

// At -O2 the scalar loop is not vectorised, and a scalar conversion and division per value made the
// batch slower than ATen's two vectorised ops.
void divideRow(const uint8_t* src, float* dst, int64_t n, float divisor) {
#if defined(__x86_64__)
  if (kCpuAvx2) return divideRowAvx2(src, dst, n, divisor);
#endif
  divideRowScalar(src, dst, n, divisor);
}

void prefetchRow(const uint8_t* row, int64_t n) {
  for (int64_t j = 0; j < n; j += 64) __builtin_prefetch(row + j);
}

}  // namespace

void registerDataFunctions(Napi::Env env, Napi::Object exports) {
  // gatherDivided(x, index, divisor): out[r] = float(x[index[r]]) / divisor, for x uint8 [N, ...]
  // contiguous on the CPU and index int64 [B]. One pass over the batch where index_select and then div
  // make two, with no uint8 intermediate. The quotient is taken in float32, as ATen's true division of
  // a uint8 tensor by a scalar takes it (the scalar rounded to float32 first), so every value is bit
  // for bit what index_select + div give.
  exportFn(env, exports, "gatherDivided", [](const Napi::CallbackInfo& info) -> Napi::Value {
    const at::Tensor& x = tensorArg(info, 0);
    const at::Tensor index = tensorArg(info, 1).contiguous();
    if (!info[2].IsNumber()) throw std::invalid_argument("divisor must be a number");
    const float divisor = static_cast<float>(info[2].As<Napi::Number>().DoubleValue());
    if (!x.device().is_cpu() || x.scalar_type() != at::kByte || !x.is_contiguous() || x.dim() < 1) {
      throw std::invalid_argument("x must be a contiguous uint8 CPU tensor with a leading dimension, got " +
                                  describeTensor(x));
    }
    if (!index.device().is_cpu() || index.scalar_type() != at::kLong || index.dim() != 1) {
      throw std::invalid_argument("index must be a 1-D int64 CPU tensor, got " + describeTensor(index));
    }
    const int64_t n = x.size(0);
    const int64_t rows = index.size(0);
    const int64_t* idx = index.data_ptr<int64_t>();
    for (int64_t r = 0; r < rows; r++) {
      if (idx[r] < 0 || idx[r] >= n) {
        throw std::out_of_range("index " + std::to_string(idx[r]) + " is out of range for " + std::to_string(n) +
                                " rows");
      }
    }
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = rows;
    at::Tensor out = at::empty(shape, x.options().dtype(at::kFloat));
    const int64_t rowSize = n == 0 ? 0 : x.numel() / n;
    const uint8_t* src = x.data_ptr<uint8_t>();
    float* dst = out.data_ptr<float>();
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(rowSize, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      // The rows are scattered over the data set, so the hardware prefetcher cannot see the next one
      // coming: ask for each two rows ahead of its division.
      for (int64_t r = begin; r < std::min(begin + 2, end); r++) prefetchRow(src + idx[r] * rowSize, rowSize);
      for (int64_t r = begin; r < end; r++) {
        if (r + 2 < end) prefetchRow(src + idx[r + 2] * rowSize, rowSize);
        divideRow(src + idx[r] * rowSize, dst + r * rowSize, rowSize, divisor);
      }
    });
    return newHandle(info.Env(), out);
  });
}

}  // namespace genlab
