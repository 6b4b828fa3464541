#pragma once
// The input layout of FuzzProtocolFrames, shared with the seed generator: one selector byte (taken modulo
// kFrameKinds) naming the decoder, then the frame given to it.
#include <cstdint>

namespace depot::test {

enum class FrameKind : uint8_t { Envelope, Publish, Confirm, Deliver, Ack, Nack };
inline constexpr uint8_t kFrameKinds = 6;

// The body frame passed with PUBLISH and DELIVER headers: the decoders only move it into the result.
inline constexpr const char* kFuzzBody = "body";

}  // namespace depot::test
