// A caching CPU allocator, registered with libtorch's allocator hook (c10::SetAllocator).
//
// Why: with glibc, every block above its mmap ceiling (32 MiB, raised by tuneAllocator in addon.cc) is
// mapped fresh on allocation and unmapped on free, so each use faults its pages in again: Glow's
// evaluation at batch 500 ran 18× slower per image than at batch 100. Python frees temporaries at
// once and reuses them while they are in cache; genlab frees at the end of a scope, which makes that
// cost show more often.
//
// How:
// - Blocks of at least kMinCached bytes are mapped with mmap, rounded up to a size class (8 classes
//   per power of two, at most 1/8 wasted), and kept on a free list per class when freed. A request
//   of the same class reuses the most recently freed block, whose pages are resident and often in
//   cache. Blocks of 4 MiB and more are aligned to 2 MiB and advised as transparent huge pages, so a
//   miss faults 2 MiB at a time instead of 4 KiB.
// - Smaller blocks go to glibc (posix_memalign), which already reuses them from its heap.
// - The cache is bounded: at most `cap` bytes (2 GiB), and a cached block whose size class nobody has
//   asked for in `maxAge` seconds (10) is unmapped (checked on allocator calls and by a timer in
//   src/torch/scope.ts), so memory returns to the system after a peak while the sizes a training
//   step keeps asking for stay cached. emptyCache() unmaps every cached block at once.
// - Every allocation carries a 64-byte header in front of the data with its block (or none, for
//   glibc's), so the deleter needs only the data pointer: DataPtr's context is the data pointer
//   itself and raw_allocate/raw_deallocate work, as libtorch's default allocator allows.
// Tensors allocated before this allocator was installed keep the deleter they were made with, so
// freeing them is unaffected. GENLAB_CACHING_ALLOCATOR=0 leaves libtorch's default allocator in place;
// GENLAB_ALLOC_CACHE_MB, GENLAB_ALLOC_CACHE_SECONDS and GENLAB_ALLOC_MIN_KB change the bounds.
#include "common.h"
#include <c10/core/Allocator.h>
#include <sys/mman.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace genlab {
namespace {

constexpr size_t kAlign = 64;  // as c10's default CPU allocator
constexpr size_t kHeader = 64;  // keeps the data 64-byte aligned
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeFrom = size_t{4} << 20;
constexpr uint64_t kMagic = 0x67656e6c61626d6dull;  // checked on free: a pointer not made here aborts loudly

// A non-negative number from the environment, else the fallback (both in the variable's unit).
double envNumber(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  return end == v || !(d >= 0) ? fallback : d;
}

struct Block {
  void* base;      // what mmap returned (after trimming to the aligned part)
  size_t mapped;   // its length
  size_t size;     // the size class: usable bytes after the header
  double freedAt;  // seconds, steady clock; when it entered the cache
};

struct Header {
  Block* block;  // nullptr: from posix_memalign
  uint64_t magic;
};
static_assert(sizeof(Header) <= kHeader, "header too large");

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The class of a request: the smallest of 8 evenly spaced sizes per power of two that holds it.
size_t sizeClass(size_t n) {
  if (n <= 4096) return 4096;
  int b = 63 - __builtin_clzll(static_cast<unsigned long long>(n - 1));  // 2^b < n <= 2^(b+1)
  size_t step = size_t{1} << (b - 2);
  return (n + step - 1) / step * step;
}

class CachingAllocator final : public c10::Allocator {
 public:
  size_t minCached = static_cast<size_t>(envNumber("GENLAB_ALLOC_MIN_KB", 256) * 1024);
  size_t cap = static_cast<size_t>(envNumber("GENLAB_ALLOC_CACHE_MB", 2048) * (1 << 20));
  double maxAge = envNumber("GENLAB_ALLOC_CACHE_SECONDS", 10);

  c10::DataPtr allocate(size_t n) const override {
    void* data = const_cast<CachingAllocator*>(this)->alloc(n);
    return {data, data, &deleteRaw, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &deleteRaw; }

  static void deleteRaw(void* data);

  void* alloc(size_t n) {
    if (n < minCached) {
      void* base = nullptr;
      if (posix_memalign(&base, kAlign, n + kHeader) != 0 || base == nullptr) outOfMemory(n);
      auto* h = static_cast<Header*>(base);
      h->block = nullptr;
      h->magic = kMagic;
      return static_cast<char*>(base) + kHeader;
    }
    const size_t cls = sizeClass(n);
    Block* b = nullptr;
    std::vector<Block*> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      lastRequest_[cls] = nowSeconds();
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        b = it->second.back();
        it->second.pop_back();
        cachedBytes_ -= b->mapped;
        cachedBlocks_--;
        hits_++;
      } else {
        misses_++;
      }
      maybeCollectOld(&drop);
    }
    unmapAll(drop);
    if (b == nullptr) b = mapBlock(cls);
    {
      std::lock_guard<std::mutex> lock(mu_);
      liveBytes_ += b->mapped;
      liveBlocks_++;
    }
    auto* h = static_cast<Header*>(b->base);
    h->block = b;
    h->magic = kMagic;
    return static_cast<char*>(b->base) + kHeader;
  }

  void release(Block* b) {
    std::vector<Block*> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      liveBytes_ -= b->mapped;
      liveBlocks_--;
      if (b->mapped > cap) {
        drop.push_back(b);
      } else {
        b->freedAt = nowSeconds();
        free_[b->size].push_back(b);
        cachedBytes_ += b->mapped;
        cachedBlocks_++;
        if (cachedBytes_ > cap) evictOldest(cachedBytes_ - cap, &drop);
      }
      maybeCollectOld(&drop);
    }
    unmapAll(drop);
  }

  // Unmaps the cached blocks unused for maxAge seconds, or all of them. Returns the bytes released.
  size_t trim(bool all) {
    std::vector<Block*> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      collectOlderThan(all ? 1e300 : nowSeconds() - maxAge, &drop);
    }
    size_t bytes = 0;
    for (Block* b : drop) bytes += b->mapped;
    unmapAll(drop);
    return bytes;
  }

  struct Stats {
    size_t cachedBytes, cachedBlocks, liveBytes, liveBlocks, hits, misses, released;
  };
  Stats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {cachedBytes_, cachedBlocks_, liveBytes_, liveBlocks_, hits_, misses_, released_};
  }

 private:
  [[noreturn]] static void outOfMemory(size_t n) {
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, "out of memory: cannot allocate " + std::to_string(n) + " bytes");
  }

  Block* mapBlock(size_t cls) {
    const size_t need = cls + kHeader;
    const bool huge = need >= kHugeFrom;
    const size_t body = (need + kHugePage - 1) / kHugePage * kHugePage;
    const size_t len = huge ? body + kHugePage : need;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      trim(true);  // perhaps the cache holds what is missing
      p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) outOfMemory(cls);
    }
    char* base = static_cast<char*>(p);
    size_t mapped = len;
    if (huge) {
      // Keep only a 2 MiB-aligned stretch, so the kernel can back it with huge pages.
      auto addr = reinterpret_cast<uintptr_t>(base);
      const size_t head = (kHugePage - addr % kHugePage) % kHugePage;
      const size_t tail = len - head - body;
      if (head > 0) munmap(base, head);
      if (tail > 0) munmap(base + head + body, tail);
      base += head;
      mapped = body;
#ifdef MADV_HUGEPAGE
      madvise(base, mapped, MADV_HUGEPAGE);
#endif
    }
    return new Block{base, mapped, cls, 0};
  }

  void maybeCollectOld(std::vector<Block*>* drop) {
    if (cachedBlocks_ == 0) return;
    const double now = nowSeconds();
    if (now - lastTrim_ < 0.25) return;
    lastTrim_ = now;
    collectOlderThan(now - maxAge, drop);
  }

  // Takes out of the cache every block that entered it before `cutoff`, of a size class not asked for
  // since `cutoff` either: a class in use (a training step asks for it every step, however long the
  // step) keeps its blocks. Lists hold newest last.
  void collectOlderThan(double cutoff, std::vector<Block*>* drop) {
    for (auto& [cls, list] : free_) {
      auto used = lastRequest_.find(cls);
      if (used != lastRequest_.end() && used->second >= cutoff) continue;
      size_t k = 0;
      while (k < list.size() && list[k]->freedAt < cutoff) k++;
      for (size_t i = 0; i < k; i++) take(list[i], drop);
      list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }

  // Takes out the least recently freed blocks until `bytes` are gone.
  void evictOldest(size_t bytes, std::vector<Block*>* drop) {
    size_t gone = 0;
    while (gone < bytes && cachedBlocks_ > 0) {
      std::vector<Block*>* oldest = nullptr;
      for (auto& [cls, list] : free_) {
        if (!list.empty() && (oldest == nullptr || list.front()->freedAt < oldest->front()->freedAt)) oldest = &list;
      }
      if (oldest == nullptr) break;
      gone += oldest->front()->mapped;
      take(oldest->front(), drop);
      oldest->erase(oldest->begin());
    }
  }

  void take(Block* b, std::vector<Block*>* drop) {
    cachedBytes_ -= b->mapped;
    cachedBlocks_--;
    released_++;
    drop->push_back(b);
  }

  static void unmapAll(const std::vector<Block*>& drop) {
    for (Block* b : drop) {
      munmap(b->base, b->mapped);
      delete b;
    }
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<Block*>> free_;
  std::unordered_map<size_t, double> lastRequest_;  // per size class: when it was last asked for
  size_t cachedBytes_ = 0, cachedBlocks_ = 0, liveBytes_ = 0, liveBlocks_ = 0;
  size_t hits_ = 0, misses_ = 0, released_ = 0;
  double lastTrim_ = 0;
};

// Never destroyed: tensors may be freed during process exit, after static destructors have run.
CachingAllocator* theAllocator = nullptr;

void CachingAllocator::deleteRaw(void* data) {
  if (data == nullptr) return;
  auto* h = reinterpret_cast<Header*>(static_cast<char*>(data) - kHeader);
  if (h->magic != kMagic) {
    std::fprintf(stderr, "genlab allocator: freeing a pointer it did not allocate (%p)\n", data);
    std::abort();
  }
  if (h->block == nullptr) {
    h->magic = 0;
    std::free(h);
  } else {
    theAllocator->release(h->block);
  }
}

}  // namespace

void installCachingAllocator() {
  const char* flag = std::getenv("GENLAB_CACHING_ALLOCATOR");
  if (flag != nullptr && flag[0] == '0') return;
  if (theAllocator != nullptr) return;
  theAllocator = new CachingAllocator();
  c10::SetAllocator(c10::DeviceType::CPU, theAllocator, 1);
}

void registerAllocatorFunctions(Napi::Env env, Napi::Object exports) {
  installCachingAllocator();
  // allocatorStats(): the caching allocator's counters, or null when it is turned off.
  exportFn(env, exports, "allocatorStats", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (theAllocator == nullptr || c10::GetAllocator(c10::DeviceType::CPU) != theAllocator) return info.Env().Null();
    auto s = theAllocator->stats();
    auto o = Napi::Object::New(info.Env());
    o.Set("cachedBytes", static_cast<double>(s.cachedBytes));
    o.Set("cachedBlocks", static_cast<double>(s.cachedBlocks));
    o.Set("largeBytes", static_cast<double>(s.liveBytes));
    o.Set("largeBlocks", static_cast<double>(s.liveBlocks));
    o.Set("hits", static_cast<double>(s.hits));
    o.Set("misses", static_cast<double>(s.misses));
    o.Set("released", static_cast<double>(s.released));
    o.Set("limitBytes", static_cast<double>(theAllocator->cap));
    o.Set("maxAgeSeconds", theAllocator->maxAge);
    o.Set("minBlockBytes", static_cast<double>(theAllocator->minCached));
    return o;
  });
  // allocatorTrim(all): unmaps cached blocks unused for a while (all of them when `all`); returns bytes.
  exportFn(env, exports, "allocatorTrim", [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (theAllocator == nullptr) return Napi::Number::New(info.Env(), 0);
    bool all = info.Length() > 0 && info[0].ToBoolean().Value();
    return Napi::Number::New(info.Env(), static_cast<double>(theAllocator->trim(all)));
  });
}

}  // namespace genlab
