// A flat open-addressing map from storage to {references, bytes, ...}: the slot table touches it on
// every tensor made and freed, and node-based maps cost an allocation each time.
#pragma once
#include <cstdint>
#include <vector>

namespace genlab {

class StorageTable {
 public:
  struct Entry {
    const void* key = nullptr;
    int64_t refs = 0;    // handles counted against this storage
    int64_t gcRefs = 0;  // of those, handles the garbage collector owns (escaped every scope)
    int64_t bytes = 0;
    bool cpu = false;    // only CPU storages are reported to V8 as external memory
  };

  StorageTable() : entries_(1024) {}

  /** The entry for key, inserted with zero refs (all fields zero) when absent. */
  Entry& at(const void* key) {
    if ((size_ + 1) * 4 > entries_.size() * 3) grow();
    size_t i = indexOf(key);
    while (entries_[i].key != nullptr && entries_[i].key != key) i = (i + 1) & mask();
    if (entries_[i].key == nullptr) {
      entries_[i] = Entry{};
      entries_[i].key = key;
      size_++;
    }
    return entries_[i];
  }

  Entry* find(const void* key) {
    size_t i = indexOf(key);
    while (entries_[i].key != nullptr) {
      if (entries_[i].key == key) return &entries_[i];
      i = (i + 1) & mask();
    }
    return nullptr;
  }

  /** Removes an entry returned by find(), shifting later entries back so probes stay unbroken. */
  void erase(Entry* e) {
    size_t hole = static_cast<size_t>(e - entries_.data());
    size_t i = hole;
    for (;;) {
      i = (i + 1) & mask();
      if (entries_[i].key == nullptr) break;
      size_t home = indexOf(entries_[i].key);
      // Move entry i into the hole unless its home lies cyclically in (hole, i].
      bool homeInRange = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (!homeInRange) {
        entries_[hole] = entries_[i];
        hole = i;
      }
    }
    entries_[hole] = Entry{};
    size_--;
  }

  size_t size() const { return size_; }

 private:
  size_t mask() const { return entries_.size() - 1; }
  size_t indexOf(const void* key) const {
    auto x = reinterpret_cast<uintptr_t>(key);
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(x >> 20) & mask();
  }
  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    size_ = 0;
    for (const auto& e : old) {
      if (e.key == nullptr) continue;
      at(e.key) = e;
    }
  }

  std::vector<Entry> entries_;
  size_t size_ = 0;
};

}  // namespace genlab
